package podaffinity

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

const scoreKey fwk.StateKey = "PreScore" + Name

// scoreState is read-only after PreScore.
type scoreState struct {
	// totals is each node's raw score.
	totals *counting.Totals
}

func (s *scoreState) Clone() fwk.StateData { return s }

// PreScore sums, per topology domain, the weight of every term relating the
// incoming pod to a pod already placed. Only the domains matter to Score, so
// the work is done once for all nodes.
func (pl *PodAffinity) PreScore(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	ownPreferred := hasPreferredTerms(pod)
	// ignorePreferredTermsOfExistingPods only spares the walk over existing
	// pods for a pod without preferred terms of its own; once the walk happens,
	// existing pods' terms count as they do in-tree.
	if pl.args.IgnorePreferredTermsOfExistingPods && !ownPreferred {
		return fwk.NewStatus(fwk.Skip)
	}
	if !ownPreferred {
		// Only existing pods' terms could add weight; without any that
		// score, skip before walking every node.
		sel, err := pl.selectorKeys(ctx, cs)
		if err != nil {
			return fwk.AsStatus(err)
		}
		if !sel.Scoring {
			return fwk.NewStatus(fwk.Skip)
		}
	}
	sc, err := pl.newScoreRelation(ctx, pod, ownPreferred)
	if err != nil {
		return fwk.AsStatus(err)
	}
	totals, err := pl.scoreExisting(ctx, cs, sc)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if len(totals.Keys()) == 0 {
		return fwk.NewStatus(fwk.Skip)
	}
	cs.Write(scoreKey, &scoreState{totals: totals})
	return nil
}

func hasPreferredTerms(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && ((a.PodAffinity != nil && len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0) ||
		(a.PodAntiAffinity != nil && len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0))
}

// newScoreRelation parses the pod's preferred terms and resolves their namespaces.
func (pl *PodAffinity) newScoreRelation(ctx context.Context, pod *v1.Pod, ownPreferred bool) (*counting.ScoreRelation, error) {
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing pod: %w", Name, err)
	}
	sc := &counting.ScoreRelation{
		Pod:             pod,
		NamespaceLabels: pl.namespaceLabels(klog.FromContext(ctx), pod.Namespace),
		Preferred:       info.GetPreferredAffinityTerms(),
		AntiPreferred:   info.GetPreferredAntiAffinityTerms(),
		HardWeight:      *pl.args.HardPodAffinityWeight,
		OwnPreferred:    ownPreferred,
	}
	for _, terms := range [][]fwk.WeightedAffinityTerm{sc.Preferred, sc.AntiPreferred} {
		for i := range terms {
			if err := pl.resolveNamespaces(&terms[i].AffinityTerm); err != nil {
				return nil, err
			}
		}
	}
	return sc, nil
}

// scoreExisting sums the weights per domain and totals them per node. The
// query lists every node, since Score may ask about any; a node adds weight
// only through its pods (sc.Rule skips pods without terms when the incoming
// pod has no preferred terms of its own).
func (pl *PodAffinity) scoreExisting(ctx context.Context, cs fwk.CycleState, sc *counting.ScoreRelation) (*counting.Totals, error) {
	nodes, err := pl.snapshot.NodeInfos().List()
	if err != nil {
		return nil, fmt.Errorf("%s: listing nodes: %w", Name, err)
	}
	sel, err := pl.selectorKeys(ctx, cs)
	if err != nil {
		return nil, err
	}
	key, err := counting.ScoreKey(sc, sel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	_, totals, err := pl.ask(ctx, cs, key, nodes, sc.Rule(), counting.ByNode)
	return totals, err
}

// Score returns the node's total from PreScore. The framework passes the
// snapshot's own NodeInfo objects; any other object is looked up by name.
func (pl *PodAffinity) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := readScoreState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	if _, status := nodeinfo.Node(nodeInfo); status != nil {
		return 0, status
	}
	i, ok := s.totals.Position(nodeInfo)
	if !ok {
		if i, ok = pl.positionByName(s, nodeInfo); !ok {
			return 0, fwk.AsStatus(fmt.Errorf("%s: the node scored is not in the cycle's snapshot", Name))
		}
	}
	return s.totals.At(i), nil
}

func (pl *PodAffinity) positionByName(s *scoreState, nodeInfo fwk.NodeInfo) (int32, bool) {
	ni, err := pl.snapshot.NodeInfos().Get(nodeInfo.Node().Name)
	if err != nil {
		return 0, false
	}
	return s.totals.Position(ni)
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
	if _, err := readScoreState(cs); err != nil {
		return fwk.AsStatus(err)
	}
	if len(list) == 0 {
		return nil
	}
	lo, hi := list[0].Score, list[0].Score
	for i := range list {
		lo, hi = min(lo, list[i].Score), max(hi, list[i].Score)
	}
	for i := range list {
		n := 0.0
		if hi > lo {
			n = float64(fwk.MaxScore) * (float64(list[i].Score-lo) / float64(hi-lo))
		}
		list[i].Score = int64(n)
	}
	return nil
}

// ScoreExtensions returns the plugin itself, for NormalizeScore.
func (pl *PodAffinity) ScoreExtensions() fwk.ScoreExtensions { return pl }
