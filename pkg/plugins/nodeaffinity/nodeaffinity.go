// Package nodeaffinity implements PlacementNodeAffinity: a pod's required node
// affinity filters nodes, its preferred terms score them, and the profile's
// addedAffinity applies on top to every pod. spec.nodeSelector is the job of
// PlacementNodeSelector.
package nodeaffinity

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/helper"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/gates"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodematch"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/requeue"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

const (
	// Name is the plugin's name in the registry and in scheduler configurations.
	Name = "PlacementNodeAffinity"

	// ErrReasonPod is reported for a node that fails the pod's required node
	// affinity; it is the in-tree wording, shared with PlacementNodeSelector.
	ErrReasonPod = nodeselector.ErrReason
	// ErrReasonEnforced is reported for a node that fails the profile's addedAffinity.
	ErrReasonEnforced = "node(s) didn't match scheduler-enforced node affinity"
	// ErrReasonConflict is reported when matchFields on metadata.name leave no
	// node name that every term allows.
	ErrReasonConflict = "pod affinity terms conflict"

	filterKey fwk.StateKey = "PreFilter" + Name
	scoreKey  fwk.StateKey = "PreScore" + Name
)

// NodeAffinity is the plugin.
type NodeAffinity struct {
	added compiled
	gates gates.Gates
}

var (
	_ fwk.PreFilterPlugin   = &NodeAffinity{}
	_ fwk.FilterPlugin      = &NodeAffinity{}
	_ fwk.PreScorePlugin    = &NodeAffinity{}
	_ fwk.ScorePlugin       = &NodeAffinity{}
	_ fwk.EnqueueExtensions = &NodeAffinity{}
	_ fwk.SignPlugin        = &NodeAffinity{}
)

// New builds the plugin from its args; invalid args fail with the field named.
func New(_ context.Context, obj runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	a, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	return NewWithArgs(a)
}

// NewWithArgs builds the plugin from decoded args, compiling (and so
// validating) the added affinity once.
func NewWithArgs(a Args) (*NodeAffinity, error) {
	c, err := compile(a)
	if err != nil {
		return nil, err
	}
	return &NodeAffinity{added: c, gates: gates.Current()}, nil
}

// Name returns the plugin's name.
func (*NodeAffinity) Name() string { return Name }

func requiredOf(pod *v1.Pod) *v1.NodeSelector {
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// filterState is the pod's compiled required affinity, read-only after PreFilter.
type filterState struct {
	// hasRequired is false when the pod has no required node affinity.
	hasRequired bool
	// required never matches on terms that do not parse, as in the API's own
	// reading of them.
	required nodematch.Selector
}

func (s *filterState) Clone() fwk.StateData { return s }

func newFilterState(pod *v1.Pod) *filterState {
	s := &filterState{}
	if ns := requiredOf(pod); ns != nil {
		s.hasRequired, s.required = true, nodematch.NewSelector(ns)
	}
	return s
}

// PreFilter parses the required terms once and, when every term pins node
// names through matchFields, hands the framework that short list of nodes.
func (pl *NodeAffinity) PreFilter(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	required := requiredOf(pod)
	if pl.gates.IgnoresPlacement(pod) || (required == nil && pl.added.required == nil) {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	cs.Write(filterKey, newFilterState(pod))
	if required == nil {
		return nil, nil
	}
	names, pinned := pinnedNodeNames(required.NodeSelectorTerms)
	if !pinned {
		return nil, nil
	}
	if names.Len() == 0 {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonConflict)
	}
	return &fwk.PreFilterResult{NodeNames: names}, nil
}

// pinnedNodeNames returns the node names the terms allow when every term
// constrains metadata.name with In; pinned is false when some term (or no
// term at all) leaves the name open. Terms are ORed, so their sets are joined;
// requirements within a term are ANDed, so theirs are intersected.
func pinnedNodeNames(terms []v1.NodeSelectorTerm) (names sets.Set[string], pinned bool) {
	if len(terms) == 0 {
		return nil, false
	}
	names = sets.New[string]()
	for i := range terms {
		var allowed sets.Set[string]
		for _, req := range terms[i].MatchFields {
			if req.Key != metav1.ObjectNameField || req.Operator != v1.NodeSelectorOpIn {
				continue
			}
			if allowed == nil {
				allowed = sets.New(req.Values...)
			} else {
				allowed = allowed.Intersection(sets.New(req.Values...))
			}
		}
		if allowed == nil {
			return nil, false
		}
		names = names.Union(allowed)
	}
	return names, true
}

// PreFilterExtensions is nil: the verdict does not depend on other pods.
func (*NodeAffinity) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter checks the profile's addedAffinity, then the pod's required terms.
// Node labels do not change on eviction: both failures are unresolvable.
func (pl *NodeAffinity) Filter(_ context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	if pl.gates.IgnoresPlacement(pod) {
		return nil
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	if pl.added.required != nil && !pl.added.required.Matches(node) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonEnforced)
	}
	s, err := readFilterState(cs, pod)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if s.hasRequired && !s.required.Matches(node) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonPod)
	}
	return nil
}

// readFilterState falls back to parsing when PreFilter did not run: a profile
// may enable the plugin's Filter and disable its PreFilter, which the in-tree
// NodeAffinity supports the same way.
func readFilterState(cs fwk.CycleState, pod *v1.Pod) (*filterState, error) {
	data, err := cs.Read(filterKey)
	if err != nil {
		return newFilterState(pod), nil
	}
	s, ok := data.(*filterState)
	if !ok {
		return nil, fmt.Errorf("%s: cycle state holds %T, want *filterState", Name, data)
	}
	return s, nil
}

// scoreState holds the pod's compiled preferred terms; nil when it has none.
type scoreState struct {
	preferred nodematch.Preferred
}

func (s *scoreState) Clone() fwk.StateData { return s }

func newScoreState(pod *v1.Pod) (*scoreState, error) {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution == nil {
		return &scoreState{}, nil
	}
	terms, err := nodematch.NewPreferred(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	if err != nil {
		return nil, err
	}
	return &scoreState{preferred: terms}, nil
}

// PreScore parses the preferred terms once; with none here and none added by
// the profile, every node would score zero, so Score is skipped.
func (pl *NodeAffinity) PreScore(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	s, err := newScoreState(pod)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if s.preferred == nil && pl.added.preferred == nil {
		return fwk.NewStatus(fwk.Skip)
	}
	cs.Write(scoreKey, s)
	return nil
}

// Score is the sum of the weights of the preferred terms the node matches.
func (pl *NodeAffinity) Score(_ context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := readScoreState(cs, pod)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return 0, status
	}
	var sum int64
	if pl.added.preferred != nil {
		sum += pl.added.preferred.Score(node)
	}
	if s.preferred != nil {
		sum += s.preferred.Score(node)
	}
	return sum, nil
}

func readScoreState(cs fwk.CycleState, pod *v1.Pod) (*scoreState, error) {
	data, err := cs.Read(scoreKey)
	if err != nil {
		return newScoreState(pod)
	}
	s, ok := data.(*scoreState)
	if !ok {
		return nil, fmt.Errorf("%s: cycle state holds %T, want *scoreState", Name, data)
	}
	return s, nil
}

// NormalizeScore scales the sums linearly so that the best-matching node
// gets MaxNodeScore, with upstream's helper (and so its integer rounding).
func (*NodeAffinity) NormalizeScore(_ context.Context, _ fwk.CycleState, _ *v1.Pod, list fwk.NodeScoreList) *fwk.Status {
	return helper.DefaultNormalizeScore(fwk.MaxScore, false, list)
}

// ScoreExtensions returns the plugin itself, for NormalizeScore.
func (pl *NodeAffinity) ScoreExtensions() fwk.ScoreExtensions { return pl }

// EventsToRegister names the events that can make a rejected pod fit: only a
// new node, or new labels on a node, can make a node match required terms
// (node names never change).
func (pl *NodeAffinity) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
	}, nil
}

// isSchedulableAfterNodeChange requeues when the node now satisfies the
// profile's addedAffinity and turned from failing to passing the pod's own
// required rules (selector and affinity together, as one rule).
func (pl *NodeAffinity) isSchedulableAfterNodeChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	if pl.added.required != nil && !pl.added.required.Matches(newNode) {
		logger.V(5).Info("Node does not match the profile's addedAffinity; no retry", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
		return fwk.QueueSkip, nil
	}
	return requeue.OnNodeMatch(logger, pod, nodeaffinity.GetRequiredNodeAffinity(pod), oldNode, newNode)
}

// SignPod gives the pod's signature for opportunistic batching: the verdicts
// and scores depend only on the pod's node affinity (and nodeSelector, which
// the in-tree signature also covers).
func (*NodeAffinity) SignPod(_ context.Context, pod *v1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	aff, err := fwk.NodeAffinitySigner(pod)
	if err != nil {
		return nil, fwk.AsStatus(err)
	}
	return []fwk.SignFragment{
		{Key: fwk.NodeAffinitySignerName, Value: aff},
		{Key: fwk.NodeSelectorSignerName, Value: pod.Spec.NodeSelector},
	}, nil
}
