package counting

import (
	"context"
	"maps"
	"sync"

	fwk "k8s.io/kube-scheduler/framework"
)

// Counting the pods that a pod's terms care about walks every pod in the
// cluster, yet from one cycle to the next only the node that took the last pod
// (and whatever the informers changed) differs. The index keeps, per query
// (one set of resolved terms, or one incoming pod identity), each node's share
// of the counts together with the NodeInfo generation it was computed from,
// and the sum. Each cycle recomputes the shares of nodes whose generation
// moved (feed.go says which), drops nodes that left, and publishes the sum
// as an object no later cycle changes.
//
// Why this equals a fresh count over the snapshot: a share is a pure function
// of the query and the NodeInfo (pods, their precomputed terms, node labels);
// the scheduler cache gives a NodeInfo a new, never reused generation on every
// change, and the snapshot copies it; so a node whose generation is unchanged
// has the share it had, and the sum of shares is the count. Queries are keyed
// by everything their shares depend on (see keys.go). The tests in
// the parent package's TestIndexEqualsFreshCount checks the equality after
// random cache changes.

// What the index may keep. Views cost memory in proportion to the pods they
// count (a memo and a share or two per pod), so the bounds are on views and
// on entries, and a view must earn its place:
//
//   - a key is kept only when it is seen a second time: a query that comes
//     once (a StatefulSet pod whose own name existing selectors ask about,
//     say) is counted afresh and forgotten, and evicts nothing;
//   - a view unused for idleQueries queries is dropped, with the pods and
//     Nodes it still refers to;
//   - all views together hold at most budgetViews times the entries of the
//     largest, which is at most the cluster's pods and shares: memory grows
//     with the cluster, not with the number of shapes of pods;
//   - and at most maxViews views.
//
// Whatever is dropped is recounted when it comes back: slower, never wrong.
const (
	maxViews    = 64
	budgetViews = 8
	idleQueries = 4096
	// sweepEvery is how often, in queries, idle views are looked for.
	sweepEvery = 256
	// seenLimit bounds each of the two generations of keys seen once.
	seenLimit = 1024
)

// Index holds the views of one plugin instance, which sees one snapshot.
type Index struct {
	workers workers
	mu      sync.Mutex
	// feed says which nodes changed since each view's last refresh.
	feed  feed
	views map[string]*view
	clock uint64
	// seen and seenBefore hold keys asked about once, in two generations:
	// when seen fills up it becomes seenBefore, and the oldest are forgotten.
	seen, seenBefore map[string]struct{}
	// entries is the views' entries, summed.
	entries int
	// skips lets the rules pass over nodes where no pod can count.
	skips *Skips
}

// Skips is what the rules over this index's snapshots use to pass over
// nodes where no pod can count (demands.go).
func (x *Index) Skips() *Skips { return x.skips }

// NewIndex returns an empty index whose counting runs on p, under
// operation (the plugin's name) in the parallelizer's metrics.
func NewIndex(p fwk.Parallelizer, operation string) *Index {
	registerMetrics()
	return &Index{workers: workers{p, operation}, views: map[string]*view{}, seen: map[string]struct{}{}, skips: newSkips()}
}

// workers runs per-node work on the scheduler's parallelizer when there is
// enough of it.
type workers struct {
	p         fwk.Parallelizer
	operation string
}

// parallelMin is the number of nodes from which counting them is worth the
// scheduler's workers.
const parallelMin = 64

func (w workers) each(ctx context.Context, n int, work func(int)) {
	if n < parallelMin {
		for i := range n {
			work(i)
		}
		return
	}
	w.p.Until(ctx, n, work, w.operation)
}

// Scan starts a scheduling cycle: all is the snapshot's node list, which the
// views' slots follow. Every query until the next scan must read the same
// snapshot.
func (x *Index) Scan(all []fwk.NodeInfo) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.feed.update(all)
	x.skips.prune(len(all))
}

// Query answers the query named by key: the sum of the shares rule count
// gives, in forms f. nodes are the nodes that can have shares under count
// (a subset of the scanned list, or all of it); a kept view covers every
// scanned node, a query not kept only nodes. count is used only when the
// view is new: equal keys must mean equal rules.
//
// It finds or makes the view of key, brings it up to date and returns its
// publications, read under the lock because the next refresh replaces them.
// Totals are by position in the scanned list; a query not kept has them only
// when it asks for totals alone (nodes must then be that list), and Filter,
// which asks for both over a sublist, reads domains then.
func (x *Index) Query(ctx context.Context, key string, nodes []fwk.NodeInfo, count Rule, f Forms) (*Sums, *Totals) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clock++
	v := x.views[key]
	switch {
	case v != nil:
		countQuery("reused")
	case !x.seenTwice(key):
		countQuery("once")
		return x.CountOnce(ctx, nodes, count, f)
	default:
		countQuery("admitted")
		v = newView(count, f)
		x.views[key] = v
	}
	v.used = x.clock
	before := v.entries
	v.refresh(ctx, x.workers, &x.feed)
	x.entries += v.entries - before
	x.trim(key)
	return v.sums, v.totals
}

// CountOnce answers a query without keeping it or reading the index's
// views: every node's shares, summed, and for totals each node's sum over
// its own domains — what a view would publish, without the per-node slots
// and per-pod memos a view keeps for the next cycle. Query uses it for a
// query seen once; a plugin for a cycle whose snapshot generations cannot
// be trusted (a pod group's).
func (x *Index) CountOnce(ctx context.Context, nodes []fwk.NodeInfo, count Rule, f Forms) (*Sums, *Totals) {
	shares := make([][]share, len(nodes))
	x.workers.each(ctx, len(nodes), func(i int) { shares[i] = count.node(nodes[i], nil) })
	sum := domainCounts{}
	keyRefs := map[string]int{}
	for _, node := range shares {
		for _, sh := range node {
			sum[sh.d] += sh.n
			keyRefs[sh.d.Key]++
		}
	}
	maps.DeleteFunc(sum, func(_ Domain, n int64) bool { return n == 0 })
	keys := sortedKeys(keyRefs)
	if f != ByNode {
		return &Sums{base: sum, nonzero: len(sum), keys: keys}, nil
	}
	totals := &Totals{pages: newPages(len(nodes)), pos: newPositions(nodes), keys: keys}
	for i, ni := range nodes {
		node := ni.Node()
		if node == nil {
			continue
		}
		total := &totals.pages[i/pageLen][i%pageLen]
		for _, k := range keys {
			if v, ok := node.Labels[k]; ok {
				*total += sum[Domain{k, v}]
			}
		}
	}
	return nil, totals
}

// seenTwice records key and says whether it was seen before.
func (x *Index) seenTwice(key string) bool {
	_, now := x.seen[key]
	_, before := x.seenBefore[key]
	if now || before {
		delete(x.seen, key)
		delete(x.seenBefore, key)
		return true
	}
	if len(x.seen) >= seenLimit {
		x.seenBefore, x.seen = x.seen, make(map[string]struct{}, seenLimit)
	}
	x.seen[key] = struct{}{}
	return false
}

// trim drops idle views, then the least recently used ones (never keep, the
// view just refreshed) while the index holds too many views or entries.
func (x *Index) trim(keep string) {
	if x.clock%sweepEvery == 0 {
		for k, v := range x.views {
			if k != keep && x.clock-v.used > idleQueries {
				x.drop(k)
			}
		}
	}
	for len(x.views) > 1 && (len(x.views) > maxViews || x.entries > budgetViews*x.largest()) {
		x.drop(x.oldest(keep))
	}
	indexViews.Set(float64(len(x.views)))
	indexEntries.Set(float64(x.entries))
}

func (x *Index) largest() int {
	n := 0
	for _, v := range x.views {
		n = max(n, v.entries)
	}
	return n
}

func (x *Index) oldest(keep string) string {
	var oldest string
	var at uint64
	for k, v := range x.views {
		if k != keep && (oldest == "" || v.used < at) {
			oldest, at = k, v.used
		}
	}
	return oldest
}

func (x *Index) drop(key string) {
	x.entries -= x.views[key].entries
	delete(x.views, key)
}
