// Package nodename implements PlacementNodeName: a pod that names a node in
// spec.nodeName may only go to that node.
package nodename

import (
	"context"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

const (
	// Name is the plugin's name in the registry and in scheduler configurations.
	Name = "PlacementNodeName"
	// ErrReason is reported for every node other than the one the pod names.
	// It is the in-tree NodeName plugin's wording, so events read the same.
	ErrReason = "node(s) didn't match the requested node name"
)

// NodeName is the plugin. It keeps no state.
type NodeName struct{}

var (
	_ fwk.PreFilterPlugin   = &NodeName{}
	_ fwk.FilterPlugin      = &NodeName{}
	_ fwk.EnqueueExtensions = &NodeName{}
	_ fwk.SignPlugin        = &NodeName{}
)

// New builds the plugin; it takes no arguments.
func New(_ context.Context, _ runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	return &NodeName{}, nil
}

// Name returns the plugin's name.
func (*NodeName) Name() string { return Name }

// Fits reports whether pod may run on node as far as spec.nodeName goes.
func Fits(pod *v1.Pod, node *v1.Node) bool {
	return pod.Spec.NodeName == "" || pod.Spec.NodeName == node.Name
}

// PreFilter narrows the cycle to the named node, so the framework never runs
// the other filters, nor preemption, on nodes that can never qualify. A pod
// that names no node passes everywhere, so Filter is skipped for it.
func (*NodeName) PreFilter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if pod.Spec.NodeName == "" {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	return &fwk.PreFilterResult{NodeNames: sets.New(pod.Spec.NodeName)}, nil
}

// PreFilterExtensions is nil: the verdict does not depend on other pods.
func (*NodeName) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter rejects every node but the named one. No eviction can change a node's
// name, hence UnschedulableAndUnresolvable.
func (*NodeName) Filter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	node, status := nodeinfo.Node(nodeInfo)
	if node == nil {
		return status
	}
	if Fits(pod, node) {
		return nil
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReason)
}

// EventsToRegister names the events that can make a rejected pod fit: only the
// arrival of a node can produce the named node; node updates never change a
// name. The check is one string comparison, so no hint.
func (*NodeName) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add}},
	}, nil
}

// SignPod lets pods that name the same node share a scheduling result.
func (*NodeName) SignPod(_ context.Context, pod *v1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return []fwk.SignFragment{{Key: fwk.NodeNameSignerName, Value: pod.Spec.NodeName}}, nil
}
