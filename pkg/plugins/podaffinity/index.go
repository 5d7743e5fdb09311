package podaffinity

import (
	"context"
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
// keys must mean equal count rules.
func (x *index) query(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count countRule) *domainSums {
	sums, _ := x.refresh(ctx, p, key, nodes, count, false)
	return sums
}

// queryTotals is query for a view that publishes each node's total over its
// own domains instead of the per-domain sums; nodes must then list every node
// that will be asked about.
func (x *index) queryTotals(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count countRule) *nodeTotals {
	_, perNode := x.refresh(ctx, p, key, nodes, count, true)
	return perNode
}

// refresh finds or makes the view of key, brings it up to date and returns
// its publication, read under the lock because the next refresh replaces it.
func (x *index) refresh(ctx context.Context, p fwk.Parallelizer, key string, nodes []fwk.NodeInfo, count countRule, perNode bool) (*domainSums, *nodeTotals) {
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
	v.refresh(ctx, p, nodes)
	return v.sums, v.perNode
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
