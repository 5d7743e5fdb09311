// Package nodeselector implements PlacementNodeSelector: a pod with
// spec.nodeSelector may only go to nodes that carry every listed label.
//
// The in-tree NodeAffinity plugin checks nodeSelector and required node
// affinity together; we keep them apart so that each rule is simple, yet report
// the same reason string so a FailedScheduling event reads exactly as upstream's.
package nodeselector

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/gates"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/requeue"
)

const (
	// Name is the plugin's name in the registry and in scheduler configurations.
	Name = "PlacementNodeSelector"
	// ErrReason is the in-tree wording for a node that fails a pod's node
	// selector or required node affinity.
	ErrReason = "node(s) didn't match Pod's node affinity/selector"

	stateKey fwk.StateKey = Name
)

// NodeSelector is the plugin.
type NodeSelector struct {
	gates gates.Gates
}

var (
	_ fwk.PreFilterPlugin   = &NodeSelector{}
	_ fwk.FilterPlugin      = &NodeSelector{}
	_ fwk.EnqueueExtensions = &NodeSelector{}
	_ fwk.SignPlugin        = &NodeSelector{}
)

// New builds the plugin; it takes no arguments.
func New(_ context.Context, _ runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	return &NodeSelector{gates: gates.Current()}, nil
}

// Name returns the plugin's name.
func (*NodeSelector) Name() string { return Name }

func selectorOf(pod *v1.Pod) labels.Selector {
	return labels.SelectorFromSet(pod.Spec.NodeSelector)
}

// state is the pod's parsed selector, built once per cycle. It is never
// mutated after PreFilter, so Clone can share it.
type state struct{ selector labels.Selector }

func (s *state) Clone() fwk.StateData { return s }

// PreFilter parses the selector once; a pod without one skips Filter entirely.
func (pl *NodeSelector) PreFilter(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if pod.Spec.NodeSelector == nil || pl.gates.IgnoresPlacement(pod) {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	cs.Write(stateKey, &state{selector: selectorOf(pod)})
	return nil, nil
}

// PreFilterExtensions is nil: the verdict does not depend on other pods.
func (*NodeSelector) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter rejects nodes that lack a selected label. Evicting pods cannot add a
// label, hence UnschedulableAndUnresolvable.
func (pl *NodeSelector) Filter(_ context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	if pl.gates.IgnoresPlacement(pod) {
		return nil
	}
	sel, err := selectorFromState(cs, pod)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	if sel.Matches(labels.Set(node.Labels)) {
		return nil
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReason)
}

// selectorFromState falls back to parsing when PreFilter did not run: a
// profile may enable the plugin's Filter and disable its PreFilter, which the
// in-tree NodeAffinity supports the same way.
func selectorFromState(cs fwk.CycleState, pod *v1.Pod) (labels.Selector, error) {
	data, err := cs.Read(stateKey)
	if err != nil {
		return selectorOf(pod), nil
	}
	s, ok := data.(*state)
	if !ok {
		return nil, fmt.Errorf("%s: cycle state holds %T, want *state", Name, data)
	}
	return s.selector, nil
}

// EventsToRegister names the events that can make a rejected pod fit: a node
// added, or a node whose labels change, can start to match. Nothing else a
// selector reads can change.
func (pl *NodeSelector) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
	}, nil
}

// isSchedulableAfterNodeChange requeues only when the node turns from not
// fitting to fitting the pod's whole required node rule (selector and
// affinity): a node that fits the selector but still fails affinity cannot help.
func (pl *NodeSelector) isSchedulableAfterNodeChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	return requeue.OnNodeMatch(logger, pod, nodeaffinity.GetRequiredNodeAffinity(pod), oldNode, newNode)
}

// SignPod gives the pod's signature for opportunistic batching: pods with the
// same selector get the same verdicts.
func (*NodeSelector) SignPod(_ context.Context, pod *v1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return []fwk.SignFragment{{Key: fwk.NodeSelectorSignerName, Value: pod.Spec.NodeSelector}}, nil
}
