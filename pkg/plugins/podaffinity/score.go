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

// scoreState is read-only after PreScore.
type scoreState struct {
	// weights sums term weights per topology domain.
	weights domainCounts
	// keys are the topology keys that any term added weight (even zero) for.
	keys []string
}

func (s *scoreState) Clone() fwk.StateData { return s }

// scorer describes one incoming pod's relation to existing pods.
type scorer struct {
	pod                      *v1.Pod
	nsLabels                 labels.Set
	preferred, antiPreferred []fwk.WeightedAffinityTerm
	hardWeight               int32
	ownPreferred             bool
}

// addTerms appends weight*sign for every term that p matches, in the domain
// of the node p runs on. nsLabels are p's namespace labels; nil when the
// terms' namespaceSelectors are already resolved.
func addTerms(out []share, terms []fwk.WeightedAffinityTerm, p *v1.Pod, nsLabels labels.Set, node *v1.Node, sign int32) []share {
	for i := range terms {
		if terms[i].Matches(p, nsLabels) {
			out = appendShare(out, node, terms[i].TopologyKey, int64(terms[i].Weight*sign))
		}
	}
	return out
}

// addExisting scores the relation between the incoming pod and existing pod
// p on node, both ways: the incoming pod's preferred terms matching p, and p's
// terms (required affinity at the hard weight, preferred ones at theirs)
// matching the incoming pod.
func (sc *scorer) addExisting(out []share, p fwk.PodInfo, node *v1.Node) []share {
	existing := p.GetPod()
	out = addTerms(out, sc.preferred, existing, nil, node, 1)
	out = addTerms(out, sc.antiPreferred, existing, nil, node, -1)
	if sc.hardWeight > 0 {
		for _, t := range p.GetRequiredAffinityTerms() {
			if t.Matches(sc.pod, sc.nsLabels) {
				out = appendShare(out, node, t.TopologyKey, int64(sc.hardWeight))
			}
		}
	}
	out = addTerms(out, p.GetPreferredAffinityTerms(), sc.pod, sc.nsLabels, node, 1)
	return addTerms(out, p.GetPreferredAntiAffinityTerms(), sc.pod, sc.nsLabels, node, -1)
}

// shares is the index's computeFunc for scores: a pod without preferred terms
// of its own relates only to pods with terms of their own.
func (sc *scorer) shares(ni fwk.NodeInfo, out []share) []share {
	node := ni.Node()
	if len(node.Labels) == 0 {
		return out
	}
	pods := ni.GetPodsWithAffinity()
	if sc.ownPreferred {
		pods = ni.GetPods()
	}
	for _, p := range pods {
		out = sc.addExisting(out, p, node)
	}
	return out
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
		ownPreferred:  ownPreferred,
	}
	for _, terms := range [][]fwk.WeightedAffinityTerm{sc.preferred, sc.antiPreferred} {
		for i := range terms {
			if err := pl.resolveNamespaces(&terms[i].AffinityTerm); err != nil {
				return fwk.AsStatus(err)
			}
		}
	}
	pub, err := pl.scoreExisting(ctx, sc)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if len(pub.keys) == 0 {
		return fwk.NewStatus(fwk.Skip)
	}
	cs.Write(scoreKey, &scoreState{weights: pub.counts, keys: pub.keys})
	return nil
}

// scoreExisting sums the weights over every node when the incoming pod has
// preferred terms of its own; otherwise only pods with terms of their own can
// add weight.
func (pl *PodAffinity) scoreExisting(ctx context.Context, sc *scorer) (*published, error) {
	lister := pl.snapshot.NodeInfos()
	nodes, err := lister.HavePodsWithAffinityList()
	if sc.ownPreferred {
		nodes, err = lister.List()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: listing nodes: %w", Name, err)
	}
	selectorKeys, err := pl.selectorKeys(ctx)
	if err != nil {
		return nil, err
	}
	key, err := scoreKeyOf(sc, selectorKeys)
	if err != nil {
		return nil, err
	}
	return pl.index.query(ctx, pl.parallelizer, key, nodes, sc.shares), nil
}

// scoreKeyOf: the shares depend on the incoming pod's preferred terms (as
// written and as resolved), and on its identity as existing pods' terms see it
// (identityKey). The hard weight is fixed per plugin instance.
func scoreKeyOf(sc *scorer, selectorKeys []string) (string, error) {
	var spec [2][]v1.WeightedPodAffinityTerm
	if a := sc.pod.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			spec[0] = a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
		if a.PodAntiAffinity != nil {
			spec[1] = a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
	}
	namespaces := func(terms []fwk.WeightedAffinityTerm) [][]string {
		out := make([][]string, len(terms))
		for i := range terms {
			out[i] = sortedSet(terms[i].Namespaces)
		}
		return out
	}
	identity, err := identityKey("score", sc.pod, sc.nsLabels, selectorKeys)
	if err != nil {
		return "", err
	}
	return encodeKey(identity, spec, namespaces(sc.preferred), namespaces(sc.antiPreferred))
}

// Score adds up the weights of the node's domains.
func (pl *PodAffinity) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := readScoreState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	var sum int64
	labels := nodeInfo.Node().Labels
	for _, key := range s.keys {
		if v, ok := labels[key]; ok {
			sum += s.weights[domain{key, v}]
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
	if len(s.keys) == 0 || len(list) == 0 {
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
