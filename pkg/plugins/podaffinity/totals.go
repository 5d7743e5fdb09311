package podaffinity

import (
	"slices"

	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Score is called once per feasible node, and reading a node's labels and
// then the sum for its domain costs a few cache misses each time: on
// thousands of nodes that was most of the plugin's time. A view with totals
// instead binds each node, when the node changes, to the running sums of its
// domains (cells), and adds them up once per cycle into a slice that Score
// reads by the node's position.
//
// Why a total equals the sum over the node's domains: a node's cells are
// bound from its labels for the view's keys whenever its generation moves
// (labels change only with a new generation) and for every node whenever the
// keys change; a cell is the running sum of its domain, updated with the sum
// itself.

// cell is the running sum of one domain.
type cell struct{ n int64 }

type totals struct {
	// keys are the topology keys the nodes' cells are bound for.
	keys  []string
	cells map[domain]*cell
	// pos maps each node of the view's list to its position; rebuilt when the
	// list changes, shared by the publications in between. Keyed by the
	// concrete type, whose pointer hashes cheaply; see positions.
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

// update rebinds what changed and reports whether the totals may differ
// from the last publication: a node moved, was recomputed, or keys changed.
func (t *totals) update(nodes []fwk.NodeInfo, slots []slot, changed []int, moved bool, keys []string) bool {
	if moved || t.pos == nil {
		t.pos = newPositions(nodes)
	}
	if !slices.Equal(keys, t.keys) || len(t.cells) > sweepAt(len(nodes), len(keys)) {
		t.keys = keys
		t.sweep()
		for i := range slots {
			slots[i].cells = t.bind(nodes[i], slots[i].cells[:0])
		}
		return true
	}
	for _, i := range changed {
		slots[i].cells = t.bind(nodes[i], slots[i].cells[:0])
	}
	return moved || len(changed) > 0
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

// sums adds up each node's cells.
func (t *totals) sums(slots []slot) []int64 {
	out := make([]int64, len(slots))
	for i := range slots {
		for _, c := range slots[i].cells {
			out[i] += c.n
		}
	}
	return out
}

// positions maps the snapshot's NodeInfo objects to their index. The
// scheduler's snapshot holds *framework.NodeInfo; another implementation
// is not indexed and is found by name (see Score).
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
