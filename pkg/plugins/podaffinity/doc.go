// Package podaffinity implements PlacementPodAffinity: inter-pod affinity and
// anti-affinity, required (Filter) and preferred (Score), including the rules
// that pods already running impose on the incoming pod.
//
// The files, in the order one scheduling cycle meets them:
//
//   - podaffinity.go: the plugin, its reasons, namespaceSelector
//     resolution, the cycle's selector keys, how it asks the counting
//     engine, and SignPod; args.go its arguments.
//   - filter.go: PreFilter resolves the pod's required terms and asks for
//     three counts per topology domain (pods its affinity needs, pods its
//     anti-affinity forbids, existing pods whose anti-affinity forbids it);
//     AddPod and RemovePod adjust them for preemption; Filter reads them per
//     node.
//   - score.go: PreScore asks for each node's total weight of the terms
//     relating the pod to existing pods; Score returns a node's total,
//     NormalizeScore scales them.
//   - hints.go and namespaces.go: which cluster events requeue a pending pod,
//     and the namespace labels those events and namespaceSelectors read.
//
// The counting itself — rules, query keys, the views kept across cycles and
// why they equal a fresh count — is the package internal/counting, with its
// own glossary.
package podaffinity
