// Package tainttoleration implements PlacementTaintToleration: a node's
// NoSchedule and NoExecute taints keep away pods that do not tolerate them,
// and each untolerated PreferNoSchedule taint lowers the node's score.
package tainttoleration

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/helper"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/gates"
)

const (
	// Name is the plugin's name in the registry and in scheduler configurations.
	Name = "PlacementTaintToleration"
	// ErrReason is the in-tree wording. It names no taint on purpose: events are
	// readable by anyone who can read the pod, and taints may be private.
	ErrReason = "node(s) had untolerated taint(s)"

	scoreKey fwk.StateKey = "PreScore" + Name
)

// TaintToleration is the plugin.
type TaintToleration struct {
	gates gates.Gates
}

var (
	_ fwk.PreFilterPlugin   = &TaintToleration{}
	_ fwk.FilterPlugin      = &TaintToleration{}
	_ fwk.PreScorePlugin    = &TaintToleration{}
	_ fwk.ScorePlugin       = &TaintToleration{}
	_ fwk.EnqueueExtensions = &TaintToleration{}
	_ fwk.SignPlugin        = &TaintToleration{}
)

// New builds the plugin; it takes no arguments.
func New(_ context.Context, _ runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	return &TaintToleration{gates: gates.Current()}, nil
}

// Name returns the plugin's name.
func (*TaintToleration) Name() string { return Name }

// blocksScheduling selects the taints that Filter enforces.
func blocksScheduling(t *v1.Taint) bool {
	return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
}

// UntoleratedTaint returns the first NoSchedule or NoExecute taint of node that
// pod does not tolerate, or nil when pod tolerates them all. It walks the
// node's taints in place: Filter runs it on every node for every pod, and the
// library's FindMatchingUntoleratedTaint copies the taints each time.
func (pl *TaintToleration) UntoleratedTaint(logger klog.Logger, pod *v1.Pod, node *v1.Node) *v1.Taint {
	taints := node.Spec.Taints
	for i := range taints {
		if blocksScheduling(&taints[i]) && !corev1helpers.TolerationsTolerateTaint(logger, pod.Spec.Tolerations, &taints[i], pl.gates.TaintComparisonOperators) {
			return &taints[i]
		}
	}
	return nil
}

// PreFilter only exists to step aside for a bound pod whose resize was deferred.
func (pl *TaintToleration) PreFilter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if pl.gates.IgnoresPlacement(pod) {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	return nil, nil
}

// PreFilterExtensions is nil: the verdict does not depend on other pods.
func (*TaintToleration) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter rejects a node with an untolerated NoSchedule or NoExecute taint.
// Evicting pods removes no taint, hence UnschedulableAndUnresolvable.
func (pl *TaintToleration) Filter(ctx context.Context, _ fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	if pl.gates.IgnoresPlacement(pod) {
		return nil
	}
	logger := klog.FromContext(ctx)
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	taint := pl.UntoleratedTaint(logger, pod, node)
	if taint == nil {
		return nil
	}
	if v := logger.V(4); v.Enabled() {
		v.Info("Node has a taint the pod does not tolerate", "pod", klog.KObj(pod), "node", klog.KObj(node), "taint", *taint)
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReason)
}

// scoreState keeps the tolerations that can tolerate a PreferNoSchedule taint:
// those with that effect and those with no effect, which match every effect.
type scoreState struct {
	tolerations []v1.Toleration
}

func (s *scoreState) Clone() fwk.StateData { return s }

func newScoreState(pod *v1.Pod) *scoreState {
	s := &scoreState{}
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == v1.TaintEffectPreferNoSchedule {
			s.tolerations = append(s.tolerations, t)
		}
	}
	return s
}

// PreScore picks the relevant tolerations once per cycle.
func (*TaintToleration) PreScore(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	cs.Write(scoreKey, newScoreState(pod))
	return nil
}

// Score counts the node's PreferNoSchedule taints the pod does not tolerate;
// NormalizeScore turns "fewer" into "better".
func (pl *TaintToleration) Score(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	data, err := cs.Read(scoreKey)
	if err != nil {
		return 0, fwk.AsStatus(fmt.Errorf("%s: reading PreScore state: %w", Name, err))
	}
	s, ok := data.(*scoreState)
	if !ok {
		return 0, fwk.AsStatus(fmt.Errorf("%s: cycle state holds %T, want *scoreState", Name, data))
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return 0, status
	}
	return pl.countUntoleratedPreferNoSchedule(klog.FromContext(ctx), node.Spec.Taints, s.tolerations), nil
}

func (pl *TaintToleration) countUntoleratedPreferNoSchedule(logger klog.Logger, taints []v1.Taint, tolerations []v1.Toleration) int64 {
	var n int64
	for i := range taints {
		if taints[i].Effect != v1.TaintEffectPreferNoSchedule {
			continue
		}
		if len(tolerations) == 0 || !corev1helpers.TolerationsTolerateTaint(logger, tolerations, &taints[i], pl.gates.TaintComparisonOperators) {
			n++
		}
	}
	return n
}

// NormalizeScore reverses the scale, with upstream's helper: the node with the
// fewest untolerated taints gets MaxNodeScore, and when no node has any, every
// node gets it.
func (*TaintToleration) NormalizeScore(_ context.Context, _ fwk.CycleState, _ *v1.Pod, list fwk.NodeScoreList) *fwk.Status {
	return helper.DefaultNormalizeScore(fwk.MaxScore, true, list)
}

// ScoreExtensions returns the plugin itself, for NormalizeScore.
func (pl *TaintToleration) ScoreExtensions() fwk.ScoreExtensions { return pl }

// EventsToRegister names the events that can make a rejected pod fit: a new
// node, or a change of a node's taints, can remove the blocking taint; so can
// the pod gaining a toleration (the API only allows adding tolerations to an
// existing pod).
func (pl *TaintToleration) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeTaint}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
		{Event: fwk.ClusterEvent{Resource: fwk.TargetPod, ActionType: fwk.UpdatePodToleration}, QueueingHintFn: isSchedulableAfterTolerationAdded},
	}, nil
}

// isSchedulableAfterNodeChange requeues when the node now has no blocking
// taint the pod fails to tolerate, and had one before (or is new).
func (pl *TaintToleration) isSchedulableAfterNodeChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	if pl.UntoleratedTaint(logger, pod, newNode) != nil {
		logger.V(5).Info("Node still has a taint the pod does not tolerate; no retry", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
		return fwk.QueueSkip, nil
	}
	if oldNode != nil {
		if pl.UntoleratedTaint(logger, pod, oldNode) == nil {
			logger.V(5).Info("Node's taints did not block the pod before either; no retry", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
			return fwk.QueueSkip, nil
		}
	}
	logger.V(5).Info("Node no longer has a taint the pod does not tolerate; retrying", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
	return fwk.Queue, nil
}

// isSchedulableAfterTolerationAdded always retries: a new toleration can only
// widen the set of nodes the pod tolerates.
func isSchedulableAfterTolerationAdded(logger klog.Logger, pod *v1.Pod, _, _ any) (fwk.QueueingHint, error) {
	logger.V(5).Info("Pod gained a toleration; retrying", "pod", klog.KObj(pod))
	return fwk.Queue, nil
}

// SignPod gives the pod's signature for opportunistic batching: verdicts and
// scores depend on the pod only through its tolerations.
func (*TaintToleration) SignPod(_ context.Context, pod *v1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return []fwk.SignFragment{{Key: fwk.TolerationsSignerName, Value: fwk.TolerationsSigner(pod)}}, nil
}
