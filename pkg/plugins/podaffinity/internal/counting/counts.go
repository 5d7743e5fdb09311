package counting

import fwk "k8s.io/kube-scheduler/framework"

// Counts is a published count (shared, read-only) plus this cycle's own
// changes from preemption's AddPod and RemovePod, so a cycle never copies the
// cluster-wide counts to change a few.
type Counts struct {
	sums *Sums
	// totals, when the view publishes them, are the same count per node.
	totals *Totals
	delta  domainCounts
	// nonzero counts the domains whose combined count is not zero: a fresh
	// count would hold exactly these entries.
	nonzero int
}

// NewCounts layers on sums and, if not nil, the same count's totals; nil
// sums is no counts at all.
func NewCounts(sums *Sums, totals *Totals) *Counts {
	l := &Counts{sums: sums, totals: totals}
	if sums != nil {
		l.nonzero = sums.nonzero
	}
	return l
}

// Get returns domain d's count.
func (l *Counts) Get(d Domain) int64 { return l.sums.Get(d) + l.delta[d] }

// Position is a node's position, looked up once per Filter call for every
// count whose totals use the same positions (all kept views do). Its zero
// value has looked up nothing.
type Position struct {
	in *positions
	i  int32
	ok bool
}

// Total returns the sum of the counts of ni's domains, when the view
// published totals, ni is the snapshot's own NodeInfo and the cycle changed
// no count; otherwise callers read the domains. at remembers ni's position
// for the next count.
func (l *Counts) Total(ni fwk.NodeInfo, at *Position) (int64, bool) {
	if l.totals == nil || len(l.delta) > 0 {
		return 0, false
	}
	if at.in != l.totals.pos {
		at.in = l.totals.pos
		at.i, at.ok = at.in.find(ni)
	}
	if !at.ok {
		return 0, false
	}
	return l.totals.At(at.i), true
}

// Empty reports whether every domain's count is zero.
func (l *Counts) Empty() bool { return l.nonzero == 0 }

// Len is the number of domains whose count is not zero.
func (l *Counts) Len() int { return l.nonzero }

// Add changes domain d's count by n, in this cycle's layer only.
func (l *Counts) Add(d Domain, n int64) {
	before := l.Get(d)
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

// Each calls fn for every domain with a non-zero combined count until fn
// returns true, and reports whether it did. A domain may sit in the base, the
// published differences and the cycle's delta; it is visited once, from the
// first of them that holds it.
func (l *Counts) Each(fn func(d Domain, n int64) bool) bool {
	var base, over domainCounts
	if l.sums != nil {
		base, over = l.sums.base, l.sums.over
	}
	for d := range base {
		if c := l.Get(d); c != 0 && fn(d, c) {
			return true
		}
	}
	for d := range over {
		if _, ok := base[d]; !ok {
			if c := l.Get(d); c != 0 && fn(d, c) {
				return true
			}
		}
	}
	for d, n := range l.delta {
		_, inBase := base[d]
		_, inOver := over[d]
		if !inBase && !inOver && n != 0 && fn(d, n) {
			return true
		}
	}
	return false
}

// Clone copies the cycle's layer; the published counts are shared.
func (l *Counts) Clone() *Counts {
	c := *l
	c.delta = l.delta.clone()
	return &c
}
