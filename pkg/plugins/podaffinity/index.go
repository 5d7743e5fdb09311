package podaffinity

import (
	"context"
	"slices"
	"sort"
	"sync"

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

// computeFunc appends node ni's shares to out.
type computeFunc func(ni fwk.NodeInfo, out []share) []share

type nodeShares struct {
	name       string
	generation int64
	shares     []share
	epoch      uint64
	// pos is the node's index in the list of the last refresh.
	pos int
}

// published is the sum of one query's shares at one cycle. Never modified
// once published: cycle states of earlier cycles may still hold it.
type published struct {
	counts domainCounts
	// keys are the topology keys with at least one share, zero or not.
	keys []string
}

// view is one query's shares and their running sum.
type view struct {
	compute computeFunc
	nodes   map[string]*nodeShares
	// order and entries are the last refresh's list and its entries, so that
	// a list that kept its NodeInfo objects in order is walked by comparing
	// pointers and generations, without a lookup by name.
	order   []fwk.NodeInfo
	entries []*nodeShares
	sum     domainCounts
	keyRefs map[string]int
	pub     *published
	epoch   uint64
	used    uint64
	// reused counts nodes whose shares were kept; tests check the index is
	// actually exercised.
	reused int
}

func newView(compute computeFunc) *view {
	return &view{compute: compute, nodes: map[string]*nodeShares{}, sum: domainCounts{}, keyRefs: map[string]int{}}
}

func (v *view) apply(shares []share, sign int64) {
	for _, s := range shares {
		if v.sum[s.d] += sign * s.n; v.sum[s.d] == 0 {
			delete(v.sum, s.d)
		}
		if v.keyRefs[s.d.key] += int(sign); v.keyRefs[s.d.key] == 0 {
			delete(v.keyRefs, s.d.key)
		}
	}
}

// parallelMin is the number of changed nodes from which recomputing shares is
// worth the scheduler's workers.
const parallelMin = 64

// refresh brings the view up to date with nodes, the complete list of nodes
// that can have shares, and returns the sum.
func (v *view) refresh(ctx context.Context, p fwk.Parallelizer, nodes []fwk.NodeInfo) *published {
	v.epoch++
	entries := make([]*nodeShares, len(nodes))
	var changed []int
	j := 0
	for i, ni := range nodes {
		var e *nodeShares
		name := ni.Node().Name
		if j < len(v.order) && v.order[j] == ni && v.entries[j].name == name {
			e = v.entries[j]
			j++
		} else if e = v.nodes[name]; e != nil {
			j = e.pos + 1
		} else {
			e = &nodeShares{name: name, generation: -1}
			v.nodes[name] = e
		}
		e.epoch, e.pos, entries[i] = v.epoch, i, e
		if e.generation == ni.GetGeneration() {
			v.reused++
			continue
		}
		changed = append(changed, i)
	}
	fresh := make([][]share, len(changed))
	work := func(k int) { fresh[k] = v.compute(nodes[changed[k]], nil) }
	if len(changed) >= parallelMin {
		p.Until(ctx, len(changed), work, Name)
	} else {
		for k := range changed {
			work(k)
		}
	}
	dirty := false
	for k, i := range changed {
		e := entries[i]
		if !slices.Equal(e.shares, fresh[k]) {
			v.apply(e.shares, -1)
			v.apply(fresh[k], 1)
			dirty = true
		}
		e.generation, e.shares = nodes[i].GetGeneration(), fresh[k]
	}
	if len(v.nodes) > len(nodes) { // some node left the list
		for name, e := range v.nodes {
			if e.epoch != v.epoch {
				v.apply(e.shares, -1)
				delete(v.nodes, name)
				dirty = true
			}
		}
	}
	v.order, v.entries = append(v.order[:0], nodes...), entries
	if dirty || v.pub == nil {
		v.pub = v.publish()
	}
	return v.pub
}

func (v *view) publish() *published {
	keys := make([]string, 0, len(v.keyRefs))
	for k := range v.keyRefs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &published{counts: v.sum.clone(), keys: keys}
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

// query returns the sum of the shares computed by compute over nodes, for the
// query identified by key. compute is used only when the view is new: equal
// keys must mean equal functions.
func (x *index) query(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, compute computeFunc) *published {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clock++
	v := x.views[key]
	if v == nil {
		x.evict()
		v = newView(compute)
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
func selectorKeyShares(ni fwk.NodeInfo, out []share) []share {
	add := func(t *fwk.AffinityTerm) {
		reqs, _ := t.Selector.Requirements()
		for _, r := range reqs {
			out = append(out, share{domain{key: r.Key()}, 1})
		}
	}
	for _, p := range ni.GetPodsWithAffinity() {
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
	}
	return out
}
