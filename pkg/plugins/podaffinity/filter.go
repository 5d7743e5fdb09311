package podaffinity

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

const filterKey fwk.StateKey = "PreFilter" + Name

// domain is one topology domain: a topology key and a node's value for it.
type domain struct{ key, value string }

// domainCounts counts matching pods per topology domain. Zero entries are
// deleted so that an empty map means "no match anywhere".
type domainCounts map[domain]int64

func (m domainCounts) add(node *v1.Node, key string, delta int64) {
	value, ok := node.Labels[key]
	if !ok {
		return
	}
	d := domain{key, value}
	if m[d] += delta; m[d] == 0 {
		delete(m, d)
	}
}

func (m domainCounts) clone() domainCounts {
	c := make(domainCounts, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// filterState is what Filter needs, computed once per cycle in PreFilter and
// kept current by AddPod and RemovePod during preemption's what-if runs.
type filterState struct {
	pod *v1.Pod
	// nsLabels are the labels of the incoming pod's namespace.
	nsLabels labels.Set
	// affinity and antiAffinity are the incoming pod's required terms, with
	// namespaceSelectors resolved.
	affinity, antiAffinity []fwk.AffinityTerm

	counts
}

// counts are the pod counts per topology domain that Filter reads.
type counts struct {
	// affinityCounts counts, per domain of each affinity term, existing pods
	// matching all affinity terms.
	affinityCounts domainCounts
	// antiAffinityCounts counts, per domain of each anti-affinity term, existing
	// pods matching that term.
	antiAffinityCounts domainCounts
	// existingAntiCounts counts, per domain, existing pods' required
	// anti-affinity terms that the incoming pod matches.
	existingAntiCounts domainCounts
}

func newCounts() counts {
	return counts{affinityCounts: domainCounts{}, antiAffinityCounts: domainCounts{}, existingAntiCounts: domainCounts{}}
}

func (c counts) clone() counts {
	return counts{c.affinityCounts.clone(), c.antiAffinityCounts.clone(), c.existingAntiCounts.clone()}
}

// merge adds other's counts to c.
func (c counts) merge(other counts) {
	for _, pair := range [][2]domainCounts{{c.affinityCounts, other.affinityCounts}, {c.antiAffinityCounts, other.antiAffinityCounts}, {c.existingAntiCounts, other.existingAntiCounts}} {
		for d, n := range pair[1] {
			if pair[0][d] += n; pair[0][d] == 0 {
				delete(pair[0], d)
			}
		}
	}
}

// Clone copies the counts, which AddPod and RemovePod change; the rest is
// read-only after PreFilter.
func (s *filterState) Clone() fwk.StateData {
	c := *s
	c.counts = s.counts.clone()
	return &c
}

// account adds (delta 1) or removes (delta -1) existing pod p on node to or
// from every count of c.
func (s *filterState) account(c counts, p fwk.PodInfo, node *v1.Node, delta int64) {
	for _, t := range p.GetRequiredAntiAffinityTerms() {
		if t.Matches(s.pod, s.nsLabels) {
			c.existingAntiCounts.add(node, t.TopologyKey, delta)
		}
	}
	existing := p.GetPod()
	if matchesAll(s.affinity, existing) {
		for i := range s.affinity {
			c.affinityCounts.add(node, s.affinity[i].TopologyKey, delta)
		}
	}
	for i := range s.antiAffinity {
		if s.antiAffinity[i].Matches(existing, nil) {
			c.antiAffinityCounts.add(node, s.antiAffinity[i].TopologyKey, delta)
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
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("parsing pod: %+v", err))
	}
	s := &filterState{
		pod:          pod,
		nsLabels:     pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace),
		affinity:     info.GetRequiredAffinityTerms(),
		antiAffinity: info.GetRequiredAntiAffinityTerms(),
		counts:       newCounts(),
	}
	if err := pl.resolveAll(s.affinity); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if err := pl.resolveAll(s.antiAffinity); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if err := pl.countExisting(ctx, s, nodes); err != nil {
		return nil, fwk.AsStatus(err)
	}
	if len(s.affinity) == 0 && len(s.antiAffinity) == 0 && len(s.existingAntiCounts) == 0 {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	cs.Write(filterKey, s)
	return nil, nil
}

// countExisting fills the counts from the snapshot. A pod without terms of its
// own only needs the pods with required anti-affinity, which the snapshot
// lists apart; otherwise every pod on every node may match.
func (pl *PodAffinity) countExisting(ctx context.Context, s *filterState, nodes []fwk.NodeInfo) error {
	ownTerms := len(s.affinity) > 0 || len(s.antiAffinity) > 0
	if !ownTerms {
		var err error
		if nodes, err = pl.snapshot.NodeInfos().HavePodsWithRequiredAntiAffinityList(); err != nil {
			return fmt.Errorf("listing nodes with anti-affinity pods: %w", err)
		}
	}
	pl.eachChunk(ctx, len(nodes), func(lo, hi int) any {
		c := newCounts()
		for _, ni := range nodes[lo:hi] {
			pods := ni.GetPodsWithRequiredAntiAffinity()
			if ownTerms {
				pods = ni.GetPods()
			}
			for _, p := range pods {
				s.account(c, p, ni.Node(), 1)
			}
		}
		return c
	}, func(part any) { s.counts.merge(part.(counts)) })
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
	s.account(s.counts, p, nodeInfo.Node(), delta)
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
	node := nodeInfo.Node()
	if !s.satisfiesAffinity(node) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonAffinity)
	}
	if s.violatesAntiAffinity(node) {
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonAntiAffinity)
	}
	if s.violatesExistingAntiAffinity(node) {
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonExistingAntiAffinity)
	}
	return nil
}

// satisfiesAffinity: the node must carry every term's topology key, and each
// of its domains must hold a pod matching all terms. The exception lets the
// first pod of a group that selects itself start anywhere with the keys: when
// no pod matches the terms anywhere and the pod matches its own terms.
func (s *filterState) satisfiesAffinity(node *v1.Node) bool {
	if len(s.affinity) == 0 {
		return true
	}
	found := true
	for i := range s.affinity {
		value, ok := node.Labels[s.affinity[i].TopologyKey]
		if !ok {
			return false
		}
		if s.affinityCounts[domain{s.affinity[i].TopologyKey, value}] <= 0 {
			found = false
		}
	}
	return found || (len(s.affinityCounts) == 0 && matchesAll(s.affinity, s.pod))
}

// violatesAntiAffinity: a pod matching one of the terms is in the node's
// domain for that term.
func (s *filterState) violatesAntiAffinity(node *v1.Node) bool {
	if len(s.antiAffinityCounts) == 0 {
		return false
	}
	for i := range s.antiAffinity {
		if value, ok := node.Labels[s.antiAffinity[i].TopologyKey]; ok && s.antiAffinityCounts[domain{s.antiAffinity[i].TopologyKey, value}] > 0 {
			return true
		}
	}
	return false
}

// violatesExistingAntiAffinity: the node is in a domain where an existing
// pod's anti-affinity term rejects the incoming pod.
func (s *filterState) violatesExistingAntiAffinity(node *v1.Node) bool {
	if len(s.existingAntiCounts) == 0 {
		return false
	}
	if len(s.existingAntiCounts) < len(node.Labels) {
		for d := range s.existingAntiCounts {
			if v, ok := node.Labels[d.key]; ok && v == d.value {
				return true
			}
		}
		return false
	}
	for k, v := range node.Labels {
		if s.existingAntiCounts[domain{k, v}] > 0 {
			return true
		}
	}
	return false
}
