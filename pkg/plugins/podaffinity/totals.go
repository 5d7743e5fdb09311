package podaffinity

import (
	"slices"

	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Score is called once per feasible node, and Filter once per node it
// checks; reading a node's labels and then the sum for each of its domains
// costs a few cache misses every time, and on thousands of nodes that was
// most of the plugin's time. A view with totals instead keeps, for every
// node, the sum of its domains' counts, in pages that Score and Filter
// read by the node's position.
//
// The totals are kept up to date as the counts change: each domain's running
// sum (a cell) lists the positions of the nodes bound to it, so a change of
// the sum is added to those nodes' totals. A node is bound, from its labels
// for the view's keys, whenever its generation moves (labels change only
// with a new generation), and every node is rebound when the keys change.
// Invariant: the total at position i is the sum of the cells bound to i.
//
// A publication must not change, and copying every node's total to publish
// them cost a 40 KB allocation per view per cycle at 5,000 nodes. The totals
// are kept in pages instead: a publication shares them, and the first write
// to a page after a publication copies that page alone. A cycle that placed
// one pod changes one node's hostname domain: one page.

// pageLen is the number of nodes a page of totals holds.
const pageLen = 512

type page [pageLen]int64

// perNode is each node's total by position: pages no one writes any more.
type perNode []*page

func newPerNode(nodes int) perNode {
	p := make(perNode, (nodes+pageLen-1)/pageLen)
	for k := range p {
		p[k] = new(page)
	}
	return p
}

func (p perNode) at(i int32) int64 { return p[i/pageLen][i%pageLen] }

// cell is the running sum of one domain and the nodes bound to it.
type cell struct {
	n int64
	// at are the positions of the nodes bound to the cell.
	at []int32
}

type totals struct {
	// keys are the topology keys the nodes' cells are bound for.
	keys  []string
	cells map[domain]*cell
	// pages are each position's total; owned says which pages no
	// publication holds, written in place; the others are copied first.
	pages perNode
	owned []bool
	// pos maps each node of the view's list to its position; the feed's,
	// shared by every view of one node list.
	pos *positions
}

func newTotals() *totals { return &totals{cells: map[domain]*cell{}} }

func (t *totals) cell(d domain) *cell {
	c := t.cells[d]
	if c == nil {
		c = &cell{}
		t.cells[d] = c
	}
	return c
}

// add changes domain d's sum by n, and the totals of the nodes bound to it.
func (t *totals) add(d domain, n int64) {
	c := t.cell(d)
	c.n += n
	for _, i := range c.at {
		*t.total(i) += n
	}
}

// total returns where position i's total is kept, copying its page first if
// a publication holds it.
func (t *totals) total(i int32) *int64 {
	k := i / pageLen
	if !t.owned[k] {
		p := *t.pages[k]
		t.pages[k], t.owned[k] = &p, true
	}
	return &t.pages[k][i%pageLen]
}

// publish returns the totals as they are; later changes copy the pages
// they write.
func (t *totals) publish() perNode {
	clear(t.owned)
	return slices.Clone(t.pages)
}

// rebuildAt is the share of changed nodes from which rebinding all of them
// costs less than unbinding each from cells shared with many nodes.
func rebuildAt(nodes int) int { return nodes/8 + 1 }

// update rebinds what changed and reports whether the totals may differ
// from the last publication: a node moved, was rebound, or keys changed.
func (t *totals) update(nodes []fwk.NodeInfo, pos *positions, slots []slot, changed []int, moved bool, keys []string) bool {
	t.pos = pos
	switch {
	case !slices.Equal(keys, t.keys) || len(t.cells) > sweepAt(len(nodes), len(keys)):
		t.keys = keys
		t.sweep()
		for i := range slots {
			slots[i].cells = t.bind(nodes[i], slots[i].cells[:0])
		}
		t.rebuild(slots)
		return true
	case moved || t.pages == nil || len(changed) >= rebuildAt(len(nodes)):
		for _, i := range changed {
			slots[i].cells = t.bind(nodes[i], slots[i].cells[:0])
		}
		t.rebuild(slots)
		return true
	}
	rebound := false
	for _, i := range changed {
		if t.rebind(nodes[i], &slots[i], int32(i)) {
			rebound = true
		}
	}
	return rebound
}

// rebind binds the node at position i anew; a node whose domains are the
// same keeps its cells, which is the common case (its pods changed).
func (t *totals) rebind(ni fwk.NodeInfo, s *slot, i int32) bool {
	fresh := t.bind(ni, nil)
	if slices.Equal(fresh, s.cells) {
		return false
	}
	for _, c := range s.cells {
		if k := slices.Index(c.at, i); k >= 0 {
			c.at[k] = c.at[len(c.at)-1]
			c.at = c.at[:len(c.at)-1]
		}
	}
	total := t.total(i)
	*total = 0
	for _, c := range fresh {
		c.at = append(c.at, i)
		*total += c.n
	}
	s.cells = fresh
	return true
}

// rebuild recomputes every cell's positions and every total from the slots.
func (t *totals) rebuild(slots []slot) {
	for _, c := range t.cells {
		c.at = c.at[:0]
	}
	t.pages = newPerNode(len(slots))
	t.owned = make([]bool, len(t.pages))
	for k := range t.owned {
		t.owned[k] = true
	}
	for i := range slots {
		total := t.total(int32(i))
		for _, c := range slots[i].cells {
			c.at = append(c.at, int32(i))
			*total += c.n
		}
	}
}

// bind appends the cells of node ni's domains for the bound keys.
func (t *totals) bind(ni fwk.NodeInfo, out []*cell) []*cell {
	node := ni.Node()
	if node == nil {
		return out
	}
	for _, k := range t.keys {
		if v, ok := node.Labels[k]; ok {
			out = append(out, t.cell(domain{k, v}))
		}
	}
	return out
}

// sweepAt is how many cells the map may hold before the ones that are zero
// and possibly unbound (nodes gone, labels changed) are dropped.
func sweepAt(nodes, keys int) int { return 4*nodes*max(keys, 1) + 64 }

// sweep keeps only the non-zero cells; callers rebind every node after it.
func (t *totals) sweep() {
	kept := make(map[domain]*cell, len(t.cells))
	for d, c := range t.cells {
		if c.n != 0 {
			kept[d] = c
		}
	}
	t.cells = kept
}

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
