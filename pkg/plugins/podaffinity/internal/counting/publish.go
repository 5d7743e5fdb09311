package counting

import (
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// A view publishes its sum once per cycle, per domain (what Filter and the
// selector keys read), per node (what Score and Filter read), or both.
// Neither is modified once published: cycle states of earlier cycles may
// still hold it.

// Forms says which publications a query wants.
type Forms uint8

const (
	// ByDomain is the sum per domain (Sums).
	ByDomain Forms = 1 << iota
	// ByNode is each node's total over its own domains (Totals).
	ByNode
)

// Sums is the sum of one query's shares per domain, published as a
// base shared by many publications plus the differences from it (over): a
// cycle changes a few domains, and copying every domain to publish them was
// a cost that grew with the pods counted. Both maps are read-only.
type Sums struct {
	base, over domainCounts
	// nonzero is the number of domains whose count is not zero.
	nonzero int
	// keys are the topology keys with at least one share, zero or not.
	keys []string
}

// Get returns domain d's sum; nil sums are no counts at all.
func (s *Sums) Get(d Domain) int64 {
	if s == nil {
		return 0
	}
	return s.base[d] + s.over[d]
}

// Totals is, for each node of a node list, the sum of one query's shares
// over the node's own domains, by the node's position (see Position). It
// is kept in pages of pageLen nodes, which later publications share until
// a change copies the page it writes (see tally.go).
type Totals struct {
	pages []*page
	// wide is, by position, 1 + the index in wideSums of the node's wide
	// cell, or 0; nil when no cell is wide.
	wide     []int32
	wideSums []int64
	pos      *positions
	// keys are the topology keys with at least one share, zero or not.
	keys []string
}

// pageLen is the number of nodes a page of totals holds.
const pageLen = 512

type page [pageLen]int64

func newPages(nodes int) []*page {
	pages := make([]*page, (nodes+pageLen-1)/pageLen)
	for k := range pages {
		pages[k] = new(page)
	}
	return pages
}

// At returns the total of the node at position i.
func (t *Totals) At(i int32) int64 {
	n := t.pages[i/pageLen][i%pageLen]
	if t.wide != nil {
		if w := t.wide[i]; w > 0 {
			n += t.wideSums[w-1]
		}
	}
	return n
}

// Position returns ni's position, if ni is an object of the node list the
// totals were counted over.
func (t *Totals) Position(ni fwk.NodeInfo) (int32, bool) { return t.pos.find(ni) }

// Keys are the topology keys with at least one share: none means no node
// has a total other than zero.
func (t *Totals) Keys() []string { return t.keys }

// positions maps the snapshot's NodeInfo objects to their index. The
// scheduler's snapshot holds *framework.NodeInfo; another implementation
// is not indexed and is found by name (Score) or by its labels (Filter).
// One table serves every view of a node list, so a pointer to it tells
// whether two totals use the same positions.
type positions struct {
	of map[*framework.NodeInfo]int32
}

func newPositions(nodes []fwk.NodeInfo) *positions {
	pos := &positions{of: make(map[*framework.NodeInfo]int32, len(nodes))}
	for i, ni := range nodes {
		if n, ok := ni.(*framework.NodeInfo); ok {
			pos.of[n] = int32(i)
		}
	}
	return pos
}

func (p *positions) find(ni fwk.NodeInfo) (int32, bool) {
	n, ok := ni.(*framework.NodeInfo)
	if !ok {
		return 0, false
	}
	i, ok := p.of[n]
	return i, ok
}
