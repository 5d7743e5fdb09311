package podaffinity

// materialize returns the combined counts as one map, for tests.
func (l *layered) materialize() domainCounts {
	m := domainCounts{}
	l.each(func(d domain, n int64) bool { m[d] = n; return false })
	return m
}
