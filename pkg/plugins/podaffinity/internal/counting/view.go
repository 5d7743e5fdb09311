package counting

import (
	"context"
	"maps"
	"slices"
	"sort"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// slot is what a view keeps for one node: the shares, and (for a view with
// totals) the running sums of the node's domains. The generation the shares
// were computed from is kept apart (view.gens): a dense array is what a view
// that compares every node itself (see changed) walks.
type slot struct {
	shares []share
	cells  []*cell
	// node and pods say what the shares were computed from (see recount).
	node *v1.Node
	pods []podShares
}

// view is one query's shares and their running sum. The slots are aligned
// with the feed's node list (see feed.go): the snapshot keeps one NodeInfo
// object per node across cycles, so a refresh recounts the positions the
// feed logged as changed and touches nothing else; when the list itself
// changed, it carries the slots over by NodeInfo object first.
type view struct {
	count Rule
	order []fwk.NodeInfo
	slots []slot
	gens  []int64
	// spare and spareGens are the buffers of the list before last.
	spare     []slot
	spareGens []int64
	sum       domainCounts
	// base is the sum as last copied, shared with publications; over is the
	// sum minus base (views published ByDomain only).
	base, over domainCounts
	keyRefs    map[string]int
	// keys is keyRefs' keys, sorted; keysMoved says a key came or went.
	keys      []string
	keysMoved bool
	// layout and epoch are the feed's when the view was last refreshed.
	layout, epoch uint64
	// tally is set for views published ByNode; over for views published
	// ByDomain.
	tally *tally
	// pending is, during a refresh, how much each domain's sum has changed
	// and the totals have not yet taken (see addPending).
	pending domainCounts
	// sums and totals are the last publications.
	sums      *Sums
	totals    *Totals
	published bool
	used      uint64
	// entries counts the slots' shares and pod memos: the view's size.
	entries int
	// reused counts nodes whose shares were kept, and podsReused pods whose
	// shares were; tests check the index is actually exercised.
	reused, podsReused int
}

func newView(count Rule, f Forms) *view {
	v := &view{count: count, sum: domainCounts{}, keyRefs: map[string]int{}}
	if f&ByNode != 0 {
		v.tally, v.pending = newTally(), domainCounts{}
	}
	if f&ByDomain != 0 {
		v.over = domainCounts{}
	}
	return v
}

func (v *view) apply(shares []share, sign int64) {
	for _, s := range shares {
		if v.sum[s.d] += sign * s.n; v.sum[s.d] == 0 {
			delete(v.sum, s.d)
		}
		if v.tally != nil {
			v.pending[s.d] += sign * s.n
		}
		if v.over != nil {
			if v.over[s.d] += sign * s.n; v.over[s.d] == 0 {
				delete(v.over, s.d)
			}
		}
		refs := v.keyRefs[s.d.Key] + int(sign)
		switch refs {
		case 0:
			delete(v.keyRefs, s.d.Key)
			v.keysMoved = true
		case 1:
			v.keysMoved = v.keysMoved || sign > 0
			v.keyRefs[s.d.Key] = refs
		default:
			v.keyRefs[s.d.Key] = refs
		}
	}
}

// lookahead bounds how far the walk searches the old list for a node that
// is not at the expected position (nodes removed before it). A node found
// nowhere within it is treated as new and its old shares as gone: slower,
// never wrong.
const lookahead = 8

// refresh brings the view up to date with the feed's nodes, and publishes
// the sum if it may have changed.
//
// A share is reused only from the same NodeInfo object at the same
// generation. The scheduler cache gives every change a new generation, and
// the snapshot keeps one object per node name, so reuse is sound; every old
// share not reused is subtracted.
func (v *view) refresh(ctx context.Context, w workers, f *feed) {
	nodes := f.all
	moved := v.layout != f.layout || v.order == nil
	dirty := false
	if moved {
		// Nodes came or went: carry the slots over by NodeInfo object. Two
		// buffers take turns rather than allocating.
		slots := slices.Grow(v.spare[:0], len(nodes))[:len(nodes)]
		clear(slots)
		gens := slices.Grow(v.spareGens[:0], len(nodes))[:len(nodes)]
		clear(gens)
		dirty = v.realign(nodes, slots, gens)
		// The old slots become the spare buffer; cleared, so that they keep
		// no shares, memos, pods or Nodes of nodes that left.
		v.spare, v.spareGens = v.slots, v.gens
		clear(v.spare)
		v.slots, v.gens, v.order, v.layout = slots, gens, nodes, f.layout
	}
	changed := v.changed(f, moved)
	v.reused += len(nodes) - len(changed)
	if v.recount(ctx, w, nodes, changed) {
		dirty = true
	}
	if v.tally != nil {
		v.addPending()
	}
	v.epoch = f.epoch
	if v.keysMoved {
		v.keys, v.keysMoved = sortedKeys(v.keyRefs), false
	}
	if v.tally != nil && v.tally.update(nodes, f.pos, v.slots, changed, moved, v.keys) {
		dirty = true
	}
	if dirty || !v.published {
		v.publish()
	}
}

// changed returns the positions whose generation differs from the one the
// view counted: those the feed logged since the view's last refresh, or,
// when the log does not tell, every position compared.
func (v *view) changed(f *feed, moved bool) []int {
	var out []int
	check := func(i int) {
		if g := f.all[i].GetGeneration(); g != v.gens[i] || g == 0 {
			out = append(out, i)
		}
	}
	if logged, ok := f.since(v.epoch); ok && !moved {
		for _, i := range logged {
			check(int(i))
		}
		return out
	}
	for i := range f.all {
		check(i)
	}
	return out
}

// recount computes the shares of the nodes at positions changed and applies
// the difference to the sum; it reports whether any shares changed.
func (v *view) recount(ctx context.Context, w workers, nodes []fwk.NodeInfo, changed []int) bool {
	fresh := make([][]share, len(changed))
	memos := make([][]podShares, len(changed))
	reused := make([]int, len(changed))
	work := func(k int) {
		i := changed[k]
		fresh[k], memos[k], reused[k] = v.count.recount(nodes[i], &v.slots[i])
	}
	w.each(ctx, len(changed), work)
	dirty := false
	for k, i := range changed {
		slot := &v.slots[i]
		v.entries += len(fresh[k]) + len(memos[k]) - len(slot.shares) - len(slot.pods)
		if !slices.Equal(slot.shares, fresh[k]) {
			v.apply(slot.shares, -1)
			v.apply(fresh[k], 1)
			dirty = true
		}
		v.gens[i], slot.shares = nodes[i].GetGeneration(), fresh[k]
		slot.node, slot.pods = nodes[i].Node(), memos[k]
		v.podsReused += reused[k]
	}
	return dirty
}

// realign carries the old slots and generations over to the positions of the
// same NodeInfo objects in nodes (generation 0 marks a node to compute),
// subtracts the shares of objects no longer listed, and reports whether it
// subtracted any.
func (v *view) realign(nodes []fwk.NodeInfo, slots []slot, gens []int64) bool {
	dropped := false
	drop := func(j int) {
		v.entries -= len(v.slots[j].shares) + len(v.slots[j].pods)
		if len(v.slots[j].shares) > 0 {
			v.apply(v.slots[j].shares, -1)
			dropped = true
		}
	}
	j := 0
	for i, ni := range nodes {
		k := j
		for ; k < len(v.order) && k < j+lookahead && v.order[k] != ni; k++ {
		}
		if k == len(v.order) || k == j+lookahead {
			// Not found near: new to this view; its generation 0 forces a
			// compute from no shares.
			continue
		}
		for ; j < k; j++ {
			drop(j)
		}
		slots[i], gens[i] = v.slots[k], v.gens[k]
		j = k + 1
	}
	for ; j < len(v.order); j++ {
		drop(j)
	}
	return dropped
}

// addPending hands the totals each domain's net change since the last
// refresh. A change of a domain's sum is added to every node bound to it
// through its page total (all of them but those holding a wide cell, see
// totals.go), and a recount takes a node's old shares off before it puts
// the new ones on; the net change, once per domain, walks those nodes once
// instead of twice per changed node.
func (v *view) addPending() {
	for d, n := range v.pending {
		if n != 0 {
			v.tally.add(d, n)
		}
	}
	// A refresh that counted every node leaves a map as large as the
	// domains; keep only a small one between refreshes.
	if len(v.pending) > 64 {
		v.pending = domainCounts{}
	} else {
		clear(v.pending)
	}
}

func (v *view) publish() {
	v.published = true
	if v.tally != nil {
		v.totals = v.tally.publish(v.keys)
	}
	if v.over == nil {
		return
	}
	if v.base == nil || len(v.over) > compactAt(len(v.base)) {
		v.base, v.over = maps.Clone(v.sum), domainCounts{}
	}
	var over domainCounts
	if len(v.over) > 0 {
		over = maps.Clone(v.over)
	}
	v.sums = &Sums{base: v.base, over: over, nonzero: len(v.sum), keys: v.keys}
}

// compactAt is how many domains may differ from the base before the sum is
// copied into a new base. Publishing copies the differences, so their number
// bounds a cycle's copying; the base's copy, made once per that many changed
// domains, adds at most 64 copied domains per change, at any size.
func compactAt(base int) int { return 64 + base/64 }

// sortedKeys returns m's keys in order; nil when there are none, so that an
// emptied view and a new one publish the same.
func sortedKeys(m map[string]int) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
