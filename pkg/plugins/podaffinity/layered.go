package podaffinity

// layered is a published count (shared, read-only) plus this cycle's own
// changes from preemption's AddPod and RemovePod, so a cycle never copies the
// cluster-wide counts to change a few.
type layered struct {
	base  domainCounts
	delta domainCounts
	// nonzero counts the domains whose combined count is not zero: a fresh
	// count would hold exactly these entries.
	nonzero int
}

func newLayered(base domainCounts) *layered {
	return &layered{base: base, nonzero: len(base)}
}

func (l *layered) get(d domain) int64 { return l.base[d] + l.delta[d] }

func (l *layered) empty() bool { return l.nonzero == 0 }

func (l *layered) len() int { return l.nonzero }

// add changes domain d by n.
func (l *layered) add(d domain, n int64) {
	before := l.get(d)
	if l.delta == nil {
		l.delta = domainCounts{}
	}
	if l.delta[d] += n; l.delta[d] == 0 {
		delete(l.delta, d)
	}
	switch after := before + n; {
	case before == 0 && after != 0:
		l.nonzero++
	case before != 0 && after == 0:
		l.nonzero--
	}
}

// each calls fn for every domain with a non-zero combined count until fn
// returns true, and reports whether it did.
func (l *layered) each(fn func(d domain, n int64) bool) bool {
	for d, n := range l.base {
		if c := n + l.delta[d]; c != 0 && fn(d, c) {
			return true
		}
	}
	for d, n := range l.delta {
		if _, ok := l.base[d]; !ok && n != 0 && fn(d, n) {
			return true
		}
	}
	return false
}

func (l *layered) clone() *layered {
	c := *l
	c.delta = l.delta.clone()
	return &c
}
