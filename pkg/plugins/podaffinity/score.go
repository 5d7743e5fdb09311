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

const scoreKey fwk.StateKey = "PreScore" + Name

// domainScores sums term weights per topology key and value.
type domainScores map[string]map[string]int64

func (m domainScores) add(node *v1.Node, key string, weight int64) {
	value, ok := node.Labels[key]
	if !ok {
		return
	}
	if m[key] == nil {
		m[key] = map[string]int64{}
	}
	m[key][value] += weight
}

// merge adds other's weights to m.
func (m domainScores) merge(other domainScores) {
	for key, values := range other {
		if m[key] == nil {
			m[key] = values
			continue
		}
		for v, w := range values {
			m[key][v] += w
		}
	}
}

// scoreState is read-only after PreScore.
type scoreState struct {
	scores domainScores
}

func (s *scoreState) Clone() fwk.StateData { return s }

// scorer gathers one cycle's weights.
type scorer struct {
	pod                      *v1.Pod
	nsLabels                 labels.Set
	preferred, antiPreferred []fwk.WeightedAffinityTerm
	hardWeight               int32
	scores                   domainScores
}

// addTerms adds weight*sign for every term that p matches, in the domain of
// the node p runs on. nsLabels are p's namespace labels; nil when the terms'
// namespaceSelectors are already resolved.
func (sc *scorer) addTerms(terms []fwk.WeightedAffinityTerm, p *v1.Pod, nsLabels labels.Set, node *v1.Node, sign int32) {
	for i := range terms {
		if terms[i].Matches(p, nsLabels) {
			sc.scores.add(node, terms[i].TopologyKey, int64(terms[i].Weight*sign))
		}
	}
}

// addExisting scores the relation between the incoming pod and existing pod
// p on node, both ways: the incoming pod's preferred terms matching p, and p's
// terms (required affinity at the hard weight, preferred ones at theirs)
// matching the incoming pod.
func (sc *scorer) addExisting(p fwk.PodInfo, node *v1.Node) {
	if len(node.Labels) == 0 {
		return
	}
	existing := p.GetPod()
	sc.addTerms(sc.preferred, existing, nil, node, 1)
	sc.addTerms(sc.antiPreferred, existing, nil, node, -1)
	if sc.hardWeight > 0 {
		for _, t := range p.GetRequiredAffinityTerms() {
			if t.Matches(sc.pod, sc.nsLabels) {
				sc.scores.add(node, t.TopologyKey, int64(sc.hardWeight))
			}
		}
	}
	sc.addTerms(p.GetPreferredAffinityTerms(), sc.pod, sc.nsLabels, node, 1)
	sc.addTerms(p.GetPreferredAntiAffinityTerms(), sc.pod, sc.nsLabels, node, -1)
}

// PreScore sums, per topology domain, the weight of every term relating the
// incoming pod to a pod already placed. Only the domains matter to Score, so
// the work is done once for all nodes.
func (pl *PodAffinity) PreScore(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	a := pod.Spec.Affinity
	ownPreferred := a != nil && ((a.PodAffinity != nil && len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0) ||
		(a.PodAntiAffinity != nil && len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0))
	// ignorePreferredTermsOfExistingPods only spares the walk over existing
	// pods for a pod without preferred terms of its own; once the walk happens,
	// existing pods' terms count as they do in-tree.
	if pl.args.IgnorePreferredTermsOfExistingPods && !ownPreferred {
		return fwk.NewStatus(fwk.Skip)
	}
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return fwk.AsStatus(fmt.Errorf("%s: parsing pod: %w", Name, err))
	}
	sc := &scorer{
		pod:           pod,
		nsLabels:      pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace),
		preferred:     info.GetPreferredAffinityTerms(),
		antiPreferred: info.GetPreferredAntiAffinityTerms(),
		hardWeight:    *pl.args.HardPodAffinityWeight,
		scores:        domainScores{},
	}
	for _, terms := range [][]fwk.WeightedAffinityTerm{sc.preferred, sc.antiPreferred} {
		for i := range terms {
			if err := pl.resolveNamespaces(&terms[i].AffinityTerm); err != nil {
				return fwk.AsStatus(err)
			}
		}
	}
	if err := pl.scoreExisting(ctx, sc, ownPreferred); err != nil {
		return fwk.AsStatus(err)
	}
	if len(sc.scores) == 0 {
		return fwk.NewStatus(fwk.Skip)
	}
	cs.Write(scoreKey, &scoreState{scores: sc.scores})
	return nil
}

// scoreExisting walks every pod when the incoming pod has preferred terms of
// its own; otherwise only pods with terms of their own can add weight.
func (pl *PodAffinity) scoreExisting(ctx context.Context, sc *scorer, ownPreferred bool) error {
	lister := pl.snapshot.NodeInfos()
	nodes, err := lister.HavePodsWithAffinityList()
	if ownPreferred {
		nodes, err = lister.List()
	}
	if err != nil {
		return fmt.Errorf("%s: listing nodes: %w", Name, err)
	}
	pl.eachChunk(ctx, len(nodes), func(lo, hi int) any {
		part := *sc
		part.scores = domainScores{}
		for _, ni := range nodes[lo:hi] {
			pods := ni.GetPodsWithAffinity()
			if ownPreferred {
				pods = ni.GetPods()
			}
			for _, p := range pods {
				part.addExisting(p, ni.Node())
			}
		}
		return part.scores
	}, func(part any) { sc.scores.merge(part.(domainScores)) })
	return nil
}

// Score adds up the weights of the node's domains.
func (pl *PodAffinity) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := readScoreState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	var sum int64
	for key, values := range s.scores {
		if v, ok := nodeInfo.Node().Labels[key]; ok {
			sum += values[v]
		}
	}
	return sum, nil
}

func readScoreState(cs fwk.CycleState) (*scoreState, error) {
	data, err := cs.Read(scoreKey)
	if err != nil {
		return nil, fmt.Errorf("%s: reading PreScore state: %w", Name, err)
	}
	s, ok := data.(*scoreState)
	if !ok {
		return nil, fmt.Errorf("%s: cycle state holds %T, want *scoreState", Name, data)
	}
	return s, nil
}

// NormalizeScore maps the raw sums, which may be negative, linearly onto
// [0, MaxNodeScore]: the lowest gets 0 and the highest the maximum.
func (pl *PodAffinity) NormalizeScore(_ context.Context, cs fwk.CycleState, _ *v1.Pod, list fwk.NodeScoreList) *fwk.Status {
	s, err := readScoreState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if len(s.scores) == 0 || len(list) == 0 {
		return nil
	}
	lo, hi := list[0].Score, list[0].Score
	for i := range list {
		lo, hi = min(lo, list[i].Score), max(hi, list[i].Score)
	}
	for i := range list {
		n := 0.0
		if hi > lo {
			n = float64(fwk.MaxNodeScore) * (float64(list[i].Score-lo) / float64(hi-lo))
		}
		list[i].Score = int64(n)
	}
	return nil
}

// ScoreExtensions returns the plugin itself, for NormalizeScore.
func (pl *PodAffinity) ScoreExtensions() fwk.ScoreExtensions { return pl }
