package podaffinity

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

const filterKey fwk.StateKey = "PreFilter" + Name

// filterState is what Filter needs, computed once per cycle in PreFilter and
// kept current by AddPod and RemovePod during preemption's what-if runs.
type filterState struct {
	pod *v1.Pod
	// nsLabels are the labels of the incoming pod's namespace.
	nsLabels labels.Set
	// affinity and antiAffinity are the incoming pod's required terms, with
	// namespaceSelectors resolved.
	affinity, antiAffinity []fwk.AffinityTerm

	// affinityCounts counts, per domain of each affinity term, existing pods
	// matching all affinity terms.
	affinityCounts *counting.Counts
	// antiAffinityCounts counts, per domain of each anti-affinity term,
	// existing pods matching that term.
	antiAffinityCounts *counting.Counts
	// existingAntiCounts counts, per domain, existing pods' required
	// anti-affinity terms that the incoming pod matches.
	existingAntiCounts *counting.Counts
}

// Clone copies the counts' own layers, which AddPod and RemovePod change; the
// rest is read-only after PreFilter.
func (s *filterState) Clone() fwk.StateData {
	c := *s
	c.affinityCounts = s.affinityCounts.Clone()
	c.antiAffinityCounts = s.antiAffinityCounts.Clone()
	c.existingAntiCounts = s.existingAntiCounts.Clone()
	return &c
}

// account adds (delta 1) or removes (delta -1) existing pod p on node to or
// from every count.
func (s *filterState) account(p fwk.PodInfo, node *v1.Node, delta int64) {
	add := func(l *counting.Counts, key string) {
		if value, ok := node.Labels[key]; ok {
			l.Add(counting.Domain{Key: key, Value: value}, delta)
		}
	}
	for _, t := range p.GetRequiredAntiAffinityTerms() {
		if t.Matches(s.pod, s.nsLabels) {
			add(s.existingAntiCounts, t.TopologyKey)
		}
	}
	existing := p.GetPod()
	if counting.MatchesAll(s.affinity, existing) {
		for i := range s.affinity {
			add(s.affinityCounts, s.affinity[i].TopologyKey)
		}
	}
	for i := range s.antiAffinity {
		if s.antiAffinity[i].Matches(existing, nil) {
			add(s.antiAffinityCounts, s.antiAffinity[i].TopologyKey)
		}
	}
}

// PreFilter counts, once per cycle, the pods that the incoming pod's terms
// and existing pods' anti-affinity terms care about. A pod with no terms, in a
// cluster where no existing anti-affinity matches it, skips Filter.
func (pl *PodAffinity) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if pl.gates.IgnoresPlacement(pod) {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	antiNodes, err := pl.snapshot.NodeInfos().HavePodsWithRequiredAntiAffinityList()
	if err != nil {
		return nil, fwk.AsStatus(fmt.Errorf("%s: listing nodes with anti-affinity pods: %w", Name, err))
	}
	if len(antiNodes) == 0 && !hasRequiredTerms(pod) {
		// Most pods: no terms, and no pod anywhere with anti-affinity.
		return nil, fwk.NewStatus(fwk.Skip)
	}
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("parsing pod: %+v", err))
	}
	s := &filterState{
		pod:          pod,
		nsLabels:     pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace),
		affinity:     info.GetRequiredAffinityTerms(),
		antiAffinity: info.GetRequiredAntiAffinityTerms(),
	}
	if err := pl.resolveAll(s.affinity); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if err := pl.resolveAll(s.antiAffinity); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if err := pl.countExisting(ctx, cs, s, nodes, antiNodes); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if len(s.affinity) == 0 && len(s.antiAffinity) == 0 && s.existingAntiCounts.Empty() {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	cs.Write(filterKey, s)
	return nil, nil
}

// hasRequiredTerms reports, without parsing them, whether pod has required
// affinity or anti-affinity terms.
func hasRequiredTerms(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && (a.PodAffinity != nil && len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 ||
		a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0)
}

// countExisting fills the counts from the index. Existing pods' anti-affinity
// can only come from antiNodes, the nodes the snapshot lists as having such
// pods; the incoming pod's own terms may match any pod on any node.
func (pl *PodAffinity) countExisting(ctx context.Context, cs fwk.CycleState, s *filterState, nodes, antiNodes []fwk.NodeInfo) error {
	// Only existing pods' required anti-affinity terms count here, so only
	// the labels their selectors name tell incoming pods apart.
	sel, err := pl.selectorKeys(ctx, cs)
	if err != nil {
		return err
	}
	key := counting.IdentityKey("existing-anti", s.pod, s.nsLabels, sel.RequiredAntiLabels, sel.RequiredAntiNamespaces)
	// The skips are kept by NodeInfo generation, which a pod group's cycle
	// keeps through its assumptions (see ask): count there without them.
	skips := pl.index.Skips()
	if cs.IsPodGroupSchedulingCycle() {
		skips = nil
	}
	// The anti-affinity counts are also read per node (see total): Filter
	// then looks at no label of the node.
	existingAnti, totals, err := pl.ask(ctx, cs, key, antiNodes, counting.ExistingAntiAffinity(s.pod, s.nsLabels, skips), counting.ByDomain|counting.ByNode)
	if err != nil {
		return err
	}
	s.existingAntiCounts = counting.NewCounts(existingAnti, totals)
	s.affinityCounts, s.antiAffinityCounts = counting.NewCounts(nil, nil), counting.NewCounts(nil, nil)
	if len(s.affinity) > 0 {
		key, err := counting.TermsKey("affinity", fwk.GetPodAffinityTerms(s.pod.Spec.Affinity), s.affinity)
		if err != nil {
			return fmt.Errorf("%s: %w", Name, err)
		}
		// One term's count is also read per node (see satisfiesAffinity);
		// with more, every domain must be checked on its own.
		f := counting.ByDomain
		if len(s.affinity) == 1 {
			f |= counting.ByNode
		}
		sums, totals, err := pl.ask(ctx, cs, key, nodes, counting.Affinity(s.affinity, skips), f)
		if err != nil {
			return err
		}
		s.affinityCounts = counting.NewCounts(sums, totals)
	}
	if len(s.antiAffinity) > 0 {
		key, err := counting.TermsKey("anti-affinity", fwk.GetPodAntiAffinityTerms(s.pod.Spec.Affinity), s.antiAffinity)
		if err != nil {
			return fmt.Errorf("%s: %w", Name, err)
		}
		sums, totals, err := pl.ask(ctx, cs, key, nodes, counting.AntiAffinity(s.antiAffinity, skips), counting.ByDomain|counting.ByNode)
		if err != nil {
			return err
		}
		s.antiAffinityCounts = counting.NewCounts(sums, totals)
	}
	return nil
}

// PreFilterExtensions lets preemption add and remove pods from the counts.
func (pl *PodAffinity) PreFilterExtensions() fwk.PreFilterExtensions { return pl }

// AddPod accounts for a pod that preemption pretends is on nodeInfo.
func (pl *PodAffinity) AddPod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, p fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	return updateState(cs, p, nodeInfo, 1)
}

// RemovePod accounts for a pod that preemption pretends is evicted.
func (pl *PodAffinity) RemovePod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, p fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	return updateState(cs, p, nodeInfo, -1)
}

func updateState(cs fwk.CycleState, p fwk.PodInfo, nodeInfo fwk.NodeInfo, delta int64) *fwk.Status {
	s, err := readFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	s.account(p, node, delta)
	return nil
}

func readFilterState(cs fwk.CycleState) (*filterState, error) {
	data, err := cs.Read(filterKey)
	if err != nil {
		return nil, fmt.Errorf("%s: reading PreFilter state: %w", Name, err)
	}
	s, ok := data.(*filterState)
	if !ok {
		return nil, fmt.Errorf("%s: cycle state holds %T, want *filterState", Name, data)
	}
	return s, nil
}

// Filter applies, in order, the incoming pod's affinity, its anti-affinity,
// and existing pods' anti-affinity; the first failure is the node's reason.
func (pl *PodAffinity) Filter(_ context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	if pl.gates.IgnoresPlacement(pod) {
		return nil
	}
	s, err := readFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	var at counting.Position
	if !s.satisfiesAffinity(nodeInfo, node, &at) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonAffinity)
	}
	if s.violatesAntiAffinity(nodeInfo, node, &at) {
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonAntiAffinity)
	}
	if s.violatesExistingAntiAffinity(nodeInfo, node, &at) {
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonExistingAntiAffinity)
	}
	return nil
}

// satisfiesAffinity: the node must carry every term's topology key, and each
// of its domains must hold a pod matching all terms. The exception lets the
// first pod of a group that selects itself start anywhere with the keys: when
// no pod matches the terms anywhere and the pod matches its own terms.
//
// With one term and some count, the node's total is its domain's count
// (zero without the key), so total > 0 is the whole answer.
func (s *filterState) satisfiesAffinity(ni fwk.NodeInfo, node *v1.Node, at *counting.Position) bool {
	if len(s.affinity) == 0 {
		return true
	}
	if len(s.affinity) == 1 && !s.affinityCounts.Empty() {
		if n, ok := s.affinityCounts.Total(ni, at); ok {
			return n > 0
		}
	}
	found := true
	for i := range s.affinity {
		value, ok := node.Labels[s.affinity[i].TopologyKey]
		if !ok {
			return false
		}
		if s.affinityCounts.Get(counting.Domain{Key: s.affinity[i].TopologyKey, Value: value}) <= 0 {
			found = false
		}
	}
	return found || (s.affinityCounts.Empty() && counting.MatchesAll(s.affinity, s.pod))
}

// violatesAntiAffinity: a pod matching one of the terms is in the node's
// domain for that term. No count is negative, so the node's total over its
// domains is positive exactly when one of them is.
func (s *filterState) violatesAntiAffinity(ni fwk.NodeInfo, node *v1.Node, at *counting.Position) bool {
	if s.antiAffinityCounts.Empty() {
		return false
	}
	if n, ok := s.antiAffinityCounts.Total(ni, at); ok {
		return n > 0
	}
	for i := range s.antiAffinity {
		if value, ok := node.Labels[s.antiAffinity[i].TopologyKey]; ok && s.antiAffinityCounts.Get(counting.Domain{Key: s.antiAffinity[i].TopologyKey, Value: value}) > 0 {
			return true
		}
	}
	return false
}

// violatesExistingAntiAffinity: the node is in a domain where an existing
// pod's anti-affinity term rejects the incoming pod; by the node's total, as
// in violatesAntiAffinity, when there is one.
func (s *filterState) violatesExistingAntiAffinity(ni fwk.NodeInfo, node *v1.Node, at *counting.Position) bool {
	if s.existingAntiCounts.Empty() {
		return false
	}
	if n, ok := s.existingAntiCounts.Total(ni, at); ok {
		return n > 0
	}
	if s.existingAntiCounts.Len() < len(node.Labels) {
		return s.existingAntiCounts.Each(func(d counting.Domain, _ int64) bool {
			v, ok := node.Labels[d.Key]
			return ok && v == d.Value
		})
	}
	for k, v := range node.Labels {
		if s.existingAntiCounts.Get(counting.Domain{Key: k, Value: v}) > 0 {
			return true
		}
	}
	return false
}
