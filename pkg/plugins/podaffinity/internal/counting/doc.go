// Package counting counts, per topology domain, the pods that inter-pod
// affinity terms care about, and keeps those counts across scheduling cycles
// so that a cycle recounts only the nodes that changed. PlacementPodAffinity
// (the parent package) asks it; it knows nothing of Filter or Score.
//
// # Glossary
//
// Every name below means one thing in this package and its parent.
//
//   - Domain: a topology key and one node's value for it (zone=z1).
//   - Rule: which pods of a node a query looks at, and what each adds to
//     which domain (ExistingAntiAffinity, Affinity, AntiAffinity,
//     ScoreRelation.Rule, SelectorKeysRule).
//   - share: what one node adds to one domain under a rule.
//   - query key: a string naming everything a query's shares depend on
//     (TermsKey, IdentityKey, ScoreKey, SelectorKeysQuery); equal keys
//     mean equal rules. A topology key (hostname, zone) and a label key
//     (app) are never called just "key" where they could be confused.
//   - Index: the views kept across cycles, one per query key, with the
//     bounds on what it keeps.
//   - view: one query's shares per node (in slots) and their sum, brought
//     up to date each cycle by recounting the nodes whose NodeInfo
//     generation moved.
//   - feed: which node positions changed since each scan of the node list;
//     one walk of the list per cycle serves every view.
//   - Sums: a query's sum per domain, as published; read-only.
//   - Totals: a query's total per node (the sum over the node's own
//     domains), as published; read-only, read by a node's Position.
//   - tally: the running per-node totals a view keeps to publish Totals;
//     a cell is one domain's running sum inside it.
//   - Counts: published Sums (and Totals) plus one cycle's own changes
//     (preemption's AddPod and RemovePod), so a cycle never copies the
//     cluster-wide counts to change a few.
//   - SelectorKeys: what the terms of the pods in a snapshot read of an
//     incoming pod (label keys, namespaces), which the identity queries
//     key on.
//
// # Files, in the order a cycle meets them
//
//   - rules.go, selectorkeys.go: the rules; keys.go and classes.go the
//     query keys and what they keep of namespaces.
//   - index.go: Index.Scan starts a cycle, Index.Query answers a query.
//   - feed.go, view.go, reuse.go: bringing a view up to date.
//   - tally.go: per-node totals kept as the sums change.
//   - publish.go: Sums, Totals and the node positions they are read by.
//   - counts.go: Counts and Position, what Filter reads.
//   - stats.go and metrics.go: what the index holds, for tests and /metrics.
//
// Why a kept count equals a fresh count over the snapshot is in index.go and
// docs/design.md; the parent package's TestIndexEqualsFreshCount checks it
// over thousands of random changes to a real scheduler cache.
package counting
