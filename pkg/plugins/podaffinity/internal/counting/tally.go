package counting

import (
	"slices"

	fwk "k8s.io/kube-scheduler/framework"
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
// for the keys bound, whenever its generation moves (labels change only
// with a new generation), and every node is rebound when a key comes that
// is not bound yet. A key whose last share goes stays bound: its cells are
// zero, so the totals are the same, and a key that comes back costs nothing.
// Invariant: the total at position i is the sum of the cells bound to i.
//
// A publication must not change, and copying every node's total to publish
// them cost a 40 KB allocation per view per cycle at 5,000 nodes. The totals
// are kept in pages instead: a publication shares them, and the first write
// to a page after a publication copies that page alone. A cycle that placed
// one pod changes one node's hostname domain: one page.
//
// A domain that many nodes share (a zone: a third of the cluster, say) would
// make every change of its sum a write to each of those nodes' totals, and
// a copy of every page they are on. Such a cell is wide: its sum is kept
// apart, published as a short list, and each node bound to it holds its
// index; a node's total is then its page entry plus its wide cell's sum. A
// node has at most one wide cell; any other cell it is bound to is written
// to its page as before.

// WideAt is the number of nodes from which a cell is wide: a smaller one
// is cheaper written to each node than read apart in Score and Filter.
const WideAt = 16

// cell is the running sum of one domain and the nodes bound to it.
type cell struct {
	n int64
	// at are the positions of the nodes bound to the cell whose totals hold
	// its sum: all of them, but for a wide cell those holding it as their
	// wide cell.
	at []int32
	// wide is 1 + the cell's index in wideSums, or 0.
	wide int32
	// bound counts, during a rebuild, the nodes bound to the cell.
	bound int
}

type tally struct {
	// keys are the topology keys the nodes' cells are bound for.
	keys  []string
	cells map[Domain]*cell
	// pages are each position's total but its wide cell's; owned says
	// which pages no publication holds, written in place; the others are
	// copied first.
	pages []*page
	owned []bool
	// wide and wideSums are as in Totals; the owned flags say no
	// publication holds them. wide changes only when a node is rebound.
	wide                 []int32
	wideSums             []int64
	wideOwned, sumsOwned bool
	// pos maps each node of the view's list to its position; the feed's,
	// shared by every view of one node list.
	pos *positions
}

func newTally() *tally { return &tally{cells: map[Domain]*cell{}} }

func (t *tally) cell(d Domain) *cell {
	c := t.cells[d]
	if c == nil {
		c = &cell{}
		t.cells[d] = c
	}
	return c
}

// add changes domain d's sum by n, and the totals of the nodes bound to it.
func (t *tally) add(d Domain, n int64) {
	c := t.cell(d)
	c.n += n
	if c.wide > 0 {
		if !t.sumsOwned {
			t.wideSums, t.sumsOwned = slices.Clone(t.wideSums), true
		}
		t.wideSums[c.wide-1] = c.n
	}
	for _, i := range c.at {
		*t.total(i) += n
	}
}

// setWide sets position i's wide cell (0: none).
func (t *tally) setWide(i int32, w int32) {
	if t.wide == nil || t.wide[i] == w {
		return
	}
	if !t.wideOwned {
		t.wide, t.wideOwned = slices.Clone(t.wide), true
	}
	t.wide[i] = w
}

// attach binds position i to cell c: as its wide cell if c is wide and i has
// none yet, else through its page total.
func (t *tally) attach(c *cell, i int32, total *int64) {
	if c.wide > 0 && t.wide[i] == 0 {
		t.setWide(i, c.wide)
		return
	}
	c.at = append(c.at, i)
	*total += c.n
}

// total returns where position i's total is kept, copying its page first if
// a publication holds it.
func (t *tally) total(i int32) *int64 {
	k := i / pageLen
	if !t.owned[k] {
		p := *t.pages[k]
		t.pages[k], t.owned[k] = &p, true
	}
	return &t.pages[k][i%pageLen]
}

// publish returns the totals as they are; later changes copy the pages
// they write, and the wide cells' lists.
func (t *tally) publish(keys []string) *Totals {
	clear(t.owned)
	t.wideOwned, t.sumsOwned = false, false
	return &Totals{pages: slices.Clone(t.pages), wide: t.wide, wideSums: t.wideSums, pos: t.pos, keys: keys}
}

// rebuildAt is the share of changed nodes from which rebinding all of them
// costs less than unbinding each from cells shared with many nodes.
func rebuildAt(nodes int) int { return nodes/8 + 1 }

// update rebinds what changed and reports whether the totals may differ
// from the last publication: a node moved, was rebound, or keys changed.
func (t *tally) update(nodes []fwk.NodeInfo, pos *positions, slots []slot, changed []int, moved bool, keys []string) bool {
	t.pos = pos
	switch {
	case len(t.cells) > sweepAt(len(nodes), len(t.keys)) || !containsAll(t.keys, keys):
		// Nodes stay bound for a key after its last share goes: its
		// cells are zero then, and a key that comes back (a pod with a
		// term on it placed again) finds them bound. A new key binds every
		// node; a sweep starts again from the view's keys.
		if len(t.cells) > sweepAt(len(nodes), len(t.keys)) {
			t.keys = keys
			t.sweep()
		} else {
			t.keys = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(t.keys), keys...))))
		}
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

// containsAll reports whether every one of keys is in have.
func containsAll(have, keys []string) bool {
	for _, k := range keys {
		if !slices.Contains(have, k) {
			return false
		}
	}
	return true
}

// rebind binds the node at position i anew; a node whose domains are the
// same keeps its cells, which is the common case (its pods changed).
func (t *tally) rebind(ni fwk.NodeInfo, s *slot, i int32) bool {
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
	t.setWide(i, 0)
	total := t.total(i)
	*total = 0
	for _, c := range fresh {
		t.attach(c, i, total)
	}
	s.cells = fresh
	return true
}

// rebuild recomputes every cell's positions, which cells are wide, and
// every total from the slots.
func (t *tally) rebuild(slots []slot) {
	for _, c := range t.cells {
		c.at, c.wide, c.bound = c.at[:0], 0, 0
	}
	for i := range slots {
		for _, c := range slots[i].cells {
			c.bound++
		}
	}
	t.wide, t.wideSums = nil, nil
	for _, c := range t.cells {
		if c.bound >= WideAt {
			t.wideSums = append(t.wideSums, c.n)
			c.wide = int32(len(t.wideSums))
		}
	}
	if len(t.wideSums) > 0 {
		t.wide = make([]int32, len(slots))
	}
	t.wideOwned, t.sumsOwned = true, true
	t.pages = newPages(len(slots))
	t.owned = make([]bool, len(t.pages))
	for k := range t.owned {
		t.owned[k] = true
	}
	for i := range slots {
		total := t.total(int32(i))
		for _, c := range slots[i].cells {
			t.attach(c, int32(i), total)
		}
	}
}

// bind appends the cells of node ni's domains for the bound keys.
func (t *tally) bind(ni fwk.NodeInfo, out []*cell) []*cell {
	node := ni.Node()
	if node == nil {
		return out
	}
	for _, k := range t.keys {
		if v, ok := node.Labels[k]; ok {
			out = append(out, t.cell(Domain{k, v}))
		}
	}
	return out
}

// sweepAt is how many cells the map may hold before the ones that are zero
// and possibly unbound (nodes gone, labels changed) are dropped.
func sweepAt(nodes, keys int) int { return 4*nodes*max(keys, 1) + 64 }

// sweep keeps only the non-zero cells; callers rebind every node after it.
func (t *tally) sweep() {
	kept := make(map[Domain]*cell, len(t.cells))
	for d, c := range t.cells {
		if c.n != 0 {
			kept[d] = c
		}
	}
	t.cells = kept
}
