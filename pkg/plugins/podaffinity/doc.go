// Package podaffinity implements PlacementPodAffinity: inter-pod affinity and
// anti-affinity, required (Filter) and preferred (Score), including the rules
// that pods already running impose on the incoming pod.
//
// The files, in the order one scheduling cycle meets them:
//
//   - podaffinity.go: the plugin, its reasons, namespaceSelector resolution
//     and SignPod; args.go its arguments.
//   - filter.go: PreFilter resolves the pod's required terms and asks the
//     index for three counts per topology domain (pods its affinity needs, pods
//     its anti-affinity forbids, existing pods whose anti-affinity forbids it);
//     AddPod and RemovePod adjust them for preemption (layered.go keeps those
//     changes apart from the shared counts); Filter reads them per node.
//   - score.go: PreScore asks the index for each node's total weight of the
//     terms relating the pod to existing pods; Score returns a node's total,
//     NormalizeScore scales them.
//   - keys.go: what identifies a query, so that equal keys mean equal counts;
//     classes.go which namespaces existing terms answer alike.
//   - index.go: the queries' views, kept across cycles.
//   - feed.go: which nodes changed since each view's last refresh, from one
//     walk of the node list per cycle.
//   - view.go: one query's per-node shares and their sum, brought up to date
//     by recounting only the nodes whose NodeInfo generation moved, and
//     published without copying every domain.
//   - reuse.go: recounting a changed node reuses the shares of the pods still
//     on it.
//   - rules.go: what one pod on one node contributes to each kind of query.
//   - totals.go: per-node totals for Score and Filter, kept as the running
//     sums of each node's domains change and published in shared pages,
//     with the sums of domains that many nodes share (zones) kept apart.
//   - domains.go: the vocabulary — domains, counts per domain, shares.
//   - hints.go and namespaces.go: which cluster events requeue a pending pod,
//     and the namespace labels those events and namespaceSelectors read.
//
// Why the counts kept across cycles equal a fresh count, and what that costs,
// is in docs/design.md; index_test.go checks it after thousands of random
// changes to a real scheduler cache.
package podaffinity
