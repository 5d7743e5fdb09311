package podaffinity

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// Counting the pods that a pod's terms care about walks every pod in the
// cluster, yet from one cycle to the next only the node that took the last pod
// (and whatever the informers changed) differs. The index keeps, per query
// (one set of resolved terms, or one incoming pod identity), each node's share
// of the counts together with the NodeInfo generation it was computed from,
// and the sum. Each cycle recomputes the shares of nodes whose generation
// moved, drops nodes that left, and publishes an immutable copy of the sum.
//
// Why this equals a fresh count over the snapshot: a share is a pure function
// of the query and the NodeInfo (pods, their precomputed terms, node labels);
// the scheduler cache gives a NodeInfo a new, never reused generation on every
// change, and the snapshot copies it; so a node whose generation is unchanged
// has the share it had, and the sum of shares is the count. Queries are keyed
// by everything their shares depend on (see the key functions). The tests in
// index_test.go check the equality after random cache changes.

// share is one node's contribution to a query: n added to domain d.
type share struct {
	d domain
	n int64
}

// counter says how a query counts: which pods of a node it looks at, and
// what one of them contributes on that node. A node's shares are its pods'
// shares in order.
type counter struct {
	pods func(ni fwk.NodeInfo) []fwk.PodInfo
	pod  func(p fwk.PodInfo, node *v1.Node, out []share) []share
}

// node appends node ni's shares to out.
func (c counter) node(ni fwk.NodeInfo, out []share) []share {
	node := ni.Node()
	for _, p := range c.pods(ni) {
		out = c.pod(p, node, out)
	}
	return out
}

// podShares records where one pod's shares sit in its node's shares.
type podShares struct {
	info     fwk.PodInfo
	pod      *v1.Pod
	from, to int32
}

// recount computes node ni's shares, reusing from old (the node's slot at
// its last count) the shares of every pod that is still there. A node that
// changed usually gained or lost one pod, and walking its other pods' terms
// again was most of a cycle's work on crowded nodes. A pod's shares are a
// function of the query, the PodInfo (the scheduler cache makes a new one for
// every pod change) and the node's labels (a new Node object for every node
// change), so reuse requires the same PodInfo, Pod and Node objects.
func (c counter) recount(ni fwk.NodeInfo, old *slot) ([]share, []podShares, int) {
	node := ni.Node()
	pods := c.pods(ni)
	var out []share
	memo := make([]podShares, 0, len(pods))
	var index map[fwk.PodInfo]int
	reused := 0
	for k, p := range pods {
		from := int32(len(out))
		j := -1
		if old.node == node && node != nil {
			j, index = old.find(p, k, index)
		}
		if j >= 0 && old.pods[j].pod == p.GetPod() {
			out = append(out, old.shares[old.pods[j].from:old.pods[j].to]...)
			reused++
		} else {
			out = c.pod(p, node, out)
		}
		memo = append(memo, podShares{info: p, pod: p.GetPod(), from: from, to: int32(len(out))})
	}
	return out, memo, reused
}

// find returns the position of p among the slot's pods, trying the position
// it has now (pods keep their order) before an index built on first need.
func (s *slot) find(p fwk.PodInfo, at int, index map[fwk.PodInfo]int) (int, map[fwk.PodInfo]int) {
	if at < len(s.pods) && s.pods[at].info == p {
		return at, index
	}
	if index == nil && at >= len(s.pods) {
		// Past the old list: usually the pod just added, which a scan rules
		// out without building an index.
		for j := range s.pods {
			if s.pods[j].info == p {
				return j, index
			}
		}
		return -1, index
	}
	if index == nil {
		index = make(map[fwk.PodInfo]int, len(s.pods))
		for j := range s.pods {
			index[s.pods[j].info] = j
		}
	}
	if j, ok := index[p]; ok {
		return j, index
	}
	return -1, index
}

// published is the sum of one query's shares at one cycle. Never modified
// once published: cycle states of earlier cycles may still hold it.
type published struct {
	// counts is the sum per domain; nil for a view that totals per node.
	counts domainCounts
	// keys are the topology keys with at least one share, zero or not.
	keys []string
	// totals, for a view that keeps them, is each node's sum over its own
	// domains, by the node's position in pos.
	totals []int64
	pos    positions
}

// slot is what a view keeps for one node: the generation its shares were
// computed from, the shares, and (for a view with totals) the running sums
// of the node's domains.
type slot struct {
	gen    int64
	shares []share
	cells  []*cell
	// node and pods say what the shares were computed from (see recount).
	node *v1.Node
	pods []podShares
}

// view is one query's shares and their running sum. The slots are aligned
// with the node list of the last refresh: the snapshot keeps one NodeInfo
// object per node across cycles, so a refresh walks the new list against the
// old one comparing pointers and generations, and touches nothing else for a
// node that did not change.
type view struct {
	count   counter
	order   []fwk.NodeInfo
	slots   []slot
	spare   []slot
	sum     domainCounts
	keyRefs map[string]int
	// keys is keyRefs' keys, sorted; keysMoved says a key came or went.
	keys      []string
	keysMoved bool
	// totals is set for views whose callers read per-node totals (Score).
	totals *totals
	pub    *published
	used   uint64
	// reused counts nodes whose shares were kept, and podsReused pods whose
	// shares were; tests check the index is actually exercised.
	reused, podsReused int
}

func newView(count counter, perNode bool) *view {
	v := &view{count: count, sum: domainCounts{}, keyRefs: map[string]int{}}
	if perNode {
		v.totals = newTotals()
	}
	return v
}

func (v *view) apply(shares []share, sign int64) {
	for _, s := range shares {
		if v.sum[s.d] += sign * s.n; v.sum[s.d] == 0 {
			delete(v.sum, s.d)
		}
		if v.totals != nil {
			v.totals.cell(s.d).n += sign * s.n
		}
		refs := v.keyRefs[s.d.key] + int(sign)
		switch refs {
		case 0:
			delete(v.keyRefs, s.d.key)
			v.keysMoved = true
		case 1:
			v.keysMoved = v.keysMoved || sign > 0
			v.keyRefs[s.d.key] = refs
		default:
			v.keyRefs[s.d.key] = refs
		}
	}
}

// parallelMin is the number of changed nodes from which recomputing shares is
// worth the scheduler's workers.
const parallelMin = 64

// lookahead bounds how far the walk searches the old list for a node that
// is not at the expected position (nodes removed before it). A node found
// nowhere within it is treated as new and its old shares as gone: slower,
// never wrong.
const lookahead = 8

// refresh brings the view up to date with nodes, the complete list of nodes
// that can have shares, and returns the sum.
//
// A share is reused only from the same NodeInfo object at the same
// generation. The scheduler cache gives every change a new generation, and
// the snapshot keeps one object per node name, so reuse is sound; every old
// share not reused is subtracted.
func (v *view) refresh(ctx context.Context, p fwk.Parallelizer, nodes []fwk.NodeInfo) *published {
	same := len(nodes) == len(v.order)
	for i := 0; same && i < len(nodes); i++ {
		same = nodes[i] == v.order[i]
	}
	slots := v.slots
	dirty := false
	if !same {
		// The list changes most cycles for lists such as "nodes with
		// affinity pods"; two buffers take turns rather than allocating.
		slots = slices.Grow(v.spare[:0], len(nodes))[:len(nodes)]
		clear(slots)
		dirty = v.realign(nodes, slots)
		v.spare = v.slots
	}
	var changed []int
	for i, ni := range nodes {
		if g := ni.GetGeneration(); g != slots[i].gen || g == 0 {
			changed = append(changed, i)
		}
	}
	v.reused += len(nodes) - len(changed)
	fresh := make([][]share, len(changed))
	memos := make([][]podShares, len(changed))
	reused := make([]int, len(changed))
	work := func(k int) {
		i := changed[k]
		fresh[k], memos[k], reused[k] = v.count.recount(nodes[i], &slots[i])
	}
	if len(changed) >= parallelMin {
		p.Until(ctx, len(changed), work, Name)
	} else {
		for k := range changed {
			work(k)
		}
	}
	for k, i := range changed {
		if !slices.Equal(slots[i].shares, fresh[k]) {
			v.apply(slots[i].shares, -1)
			v.apply(fresh[k], 1)
			dirty = true
		}
		slots[i].gen, slots[i].shares = nodes[i].GetGeneration(), fresh[k]
		slots[i].node, slots[i].pods = nodes[i].Node(), memos[k]
		v.podsReused += reused[k]
	}
	if !same {
		v.order = append(v.order[:0], nodes...)
	}
	v.slots = slots
	if v.keysMoved {
		v.keys, v.keysMoved = sortedKeys(v.keyRefs), false
	}
	if v.totals != nil && v.totals.update(nodes, slots, changed, !same, v.keys) {
		dirty = true
	}
	if dirty || v.pub == nil {
		v.pub = v.publish()
	}
	return v.pub
}

// realign carries the old slots over to the positions of the same NodeInfo
// objects in nodes (a zero slot, generation 0, marks a node to compute),
// subtracts the shares of objects no longer listed, and reports whether it
// subtracted any.
func (v *view) realign(nodes []fwk.NodeInfo, slots []slot) bool {
	dropped := false
	drop := func(j int) {
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
			// Not found near: new to this view; its zero slot (generation 0)
			// forces a compute from no shares.
			continue
		}
		for ; j < k; j++ {
			drop(j)
		}
		slots[i] = v.slots[k]
		j = k + 1
	}
	for ; j < len(v.order); j++ {
		drop(j)
	}
	return dropped
}

func (v *view) publish() *published {
	if v.totals != nil {
		return &published{keys: v.keys, totals: v.totals.sums(v.slots), pos: v.totals.pos}
	}
	return &published{counts: maps.Clone(v.sum), keys: v.keys}
}

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

// maxViews bounds the index: a cluster has a handful of pod shapes that come
// in numbers; the rest are recomputed when they come back.
const maxViews = 64

// index holds the views of one plugin instance, which sees one snapshot.
type index struct {
	mu    sync.Mutex
	views map[string]*view
	clock uint64
}

func newIndex() *index { return &index{views: map[string]*view{}} }

// query returns the sum of the shares counted by count over nodes, for the
// query identified by key. count is used only when the view is new: equal
// keys must mean equal counters.
func (x *index) query(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count counter) *published {
	return x.lookup(ctx, p, key, nodes, count, false)
}

// queryTotals is query for a view that also totals each node's domains; nodes
// must then list every node that will be asked about.
func (x *index) queryTotals(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count counter) *published {
	return x.lookup(ctx, p, key, nodes, count, true)
}

func (x *index) lookup(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count counter, perNode bool) *published {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clock++
	v := x.views[key]
	if v == nil {
		x.evict()
		v = newView(count, perNode)
		x.views[key] = v
	}
	v.used = x.clock
	return v.refresh(ctx, p, nodes)
}

func (x *index) evict() {
	if len(x.views) < maxViews {
		return
	}
	var oldest string
	var at uint64
	for k, v := range x.views {
		if oldest == "" || v.used < at {
			oldest, at = k, v.used
		}
	}
	delete(x.views, oldest)
}

// selectorKeysQuery is the index key of the label keys existing pods' terms
// select on.
const selectorKeysQuery = "selector-keys"

// selectorKeyShares: one per label key that a term (required or preferred,
// affinity or anti-affinity) of a pod on the node selects on. The key rides
// in the domain's key; the sum's keys are then the label keys in use.
var selectorKeyShares = counter{
	pods: fwk.NodeInfo.GetPodsWithAffinity,
	pod: func(p fwk.PodInfo, _ *v1.Node, out []share) []share {
		add := func(t *fwk.AffinityTerm) {
			reqs, _ := t.Selector.Requirements()
			for _, r := range reqs {
				out = append(out, share{domain{key: r.Key()}, 1})
			}
		}
		for _, terms := range [][]fwk.AffinityTerm{p.GetRequiredAffinityTerms(), p.GetRequiredAntiAffinityTerms()} {
			for i := range terms {
				add(&terms[i])
			}
		}
		for _, terms := range [][]fwk.WeightedAffinityTerm{p.GetPreferredAffinityTerms(), p.GetPreferredAntiAffinityTerms()} {
			for i := range terms {
				add(&terms[i].AffinityTerm)
			}
		}
		return out
	},
}
