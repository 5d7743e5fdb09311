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
// node, the sum of its domains' counts, in a slice that Score and Filter
// read by the node's position.
//
// The totals are kept up to date as the counts change: each domain's running
// sum (a cell) lists the positions of the nodes bound to it, so a change of
// the sum is added to those nodes' totals. A node is bound, from its labels
// for the view's keys, whenever its generation moves (labels change only
// with a new generation), and every node is rebound when the keys change.
// Invariant: total[i] is the sum of the cells bound to position i.

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
	// sums is each position's total, changed in place; publications copy it.
	sums []int64
	// pos maps each node of the view's list to its position; the feed's,
	// shared by every view of one node list.
	pos positions
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
		t.sums[i] += n
	}
}

// rebuildAt is the share of changed nodes from which rebinding all of them
// costs less than unbinding each from cells shared with many nodes.
func rebuildAt(nodes int) int { return nodes/8 + 1 }

// update rebinds what changed and reports whether the totals may differ
// from the last publication: a node moved, was rebound, or keys changed.
func (t *totals) update(nodes []fwk.NodeInfo, pos positions, slots []slot, changed []int, moved bool, keys []string) bool {
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
	case moved || t.sums == nil || len(changed) >= rebuildAt(len(nodes)):
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
	t.sums[i] = 0
	for _, c := range fresh {
		c.at = append(c.at, i)
		t.sums[i] += c.n
	}
	s.cells = fresh
	return true
}

// rebuild recomputes every cell's positions and every total from the slots.
func (t *totals) rebuild(slots []slot) {
	for _, c := range t.cells {
		c.at = c.at[:0]
	}
	t.sums = make([]int64, len(slots))
	for i := range slots {
		for _, c := range slots[i].cells {
			c.at = append(c.at, int32(i))
			t.sums[i] += c.n
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
type positions map[*framework.NodeInfo]int32

func newPositions(nodes []fwk.NodeInfo) positions {
	pos := make(positions, len(nodes))
	for i, ni := range nodes {
		if n, ok := ni.(*framework.NodeInfo); ok {
			pos[n] = int32(i)
		}
	}
	return pos
}

func (p positions) of(ni fwk.NodeInfo) (int32, bool) {
	n, ok := ni.(*framework.NodeInfo)
	if !ok {
		return 0, false
	}
	i, ok := p[n]
	return i, ok
}
