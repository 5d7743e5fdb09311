// Package requeue holds queueing-hint logic that several plugins share.
package requeue

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
)

// Matcher is a required node rule, such as component-helpers' RequiredNodeAffinity.
type Matcher interface {
	Match(node *v1.Node) (bool, error)
}

// OnNodeMatch is the queueing decision of the plugins that match node labels:
// Queue when newNode matches and oldNode (nil for an added node) did not.
func OnNodeMatch(logger klog.Logger, pod *v1.Pod, rule Matcher, oldNode, newNode *v1.Node) (fwk.QueueingHint, error) {
	matches, err := rule.Match(newNode)
	if err != nil {
		return fwk.Queue, err
	}
	if !matches {
		logger.V(5).Info("Node does not match the pod's node rules; no retry", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
		return fwk.QueueSkip, nil
	}
	if oldNode != nil {
		matched, err := rule.Match(oldNode)
		if err != nil {
			return fwk.Queue, err
		}
		if matched {
			logger.V(5).Info("Node already matched the pod's node rules; no retry", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
			return fwk.QueueSkip, nil
		}
	}
	logger.V(5).Info("Node now matches the pod's node rules; retrying", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
	return fwk.Queue, nil
}
