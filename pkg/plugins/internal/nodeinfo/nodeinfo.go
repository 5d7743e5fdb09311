// Package nodeinfo answers for a NodeInfo that has no Node: the scheduler
// cache holds such entries for pods bound to a node whose object the
// informer has not delivered yet (or no longer has). The framework does not
// pass them to plugins today; if it ever does, every plugin of ours rejects
// the node with the same status instead of dereferencing nil.
package nodeinfo

import (
	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// ErrReasonNodeUnknown is the reason a plugin gives for a NodeInfo without a
// Node. Evicting pods cannot make the node known: UnschedulableAndUnresolvable.
const ErrReasonNodeUnknown = "node(s) not known to the scheduler yet"

// Node returns the NodeInfo's Node, or nil and the status to return for it.
func Node(ni fwk.NodeInfo) (*v1.Node, *fwk.Status) {
	if ni == nil || ni.Node() == nil {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonNodeUnknown)
	}
	return ni.Node(), nil
}
