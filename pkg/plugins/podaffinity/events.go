package podaffinity

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"
)

// EventsToRegister lists what can lift a rejection: a placed pod appearing,
// changing labels or leaving; the pending pod's own labels changing (its
// self-affinity and others' anti-affinity read them); and nodes appearing or
// changing labels (topology domains).
func (pl *PodAffinity) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.AssignedPod, ActionType: fwk.Add | fwk.UpdatePodLabel | fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodChange},
		{Event: fwk.ClusterEvent{Resource: fwk.TargetPod, ActionType: fwk.UpdatePodLabel}, QueueingHintFn: alwaysQueue},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
	}, nil
}

func alwaysQueue(logger klog.Logger, pod *v1.Pod, _, _ any) (fwk.QueueingHint, error) {
	logger.V(5).Info("Pending pod's labels changed; retrying", "pod", klog.KObj(pod))
	return fwk.Queue, nil
}

func unplaced(p *v1.Pod) bool {
	return p != nil && p.Spec.NodeName == "" && p.Status.NominatedNodeName == ""
}

// isSchedulableAfterPodChange retries when a placed pod starts to satisfy the
// pending pod's affinity, or stops (or ceases to exist) in a way that lifts an
// anti-affinity conflict in either direction.
func (pl *PodAffinity) isSchedulableAfterPodChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldPod, newPod, err := util.As[*v1.Pod](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	if unplaced(oldPod) || unplaced(newPod) {
		return fwk.QueueSkip, nil
	}
	affinity, err := fwk.GetAffinityTerms(pod, fwk.GetPodAffinityTerms(pod.Spec.Affinity))
	if err != nil {
		return fwk.Queue, err
	}
	anti, err := fwk.GetAffinityTerms(pod, fwk.GetPodAntiAffinityTerms(pod.Spec.Affinity))
	if err != nil {
		return fwk.Queue, err
	}
	switch {
	case oldPod != nil && newPod != nil:
		if !matchesAll(affinity, oldPod) && matchesAll(affinity, newPod) {
			return queue(logger, pod, "a placed pod now satisfies the pod's affinity")
		}
		if matchesAny(anti, oldPod) && !matchesAny(anti, newPod) {
			return queue(logger, pod, "a placed pod no longer matches the pod's anti-affinity")
		}
		return fwk.QueueSkip, nil
	case newPod != nil:
		if matchesAll(affinity, newPod) {
			return queue(logger, pod, "a placed pod satisfies the pod's affinity")
		}
		return fwk.QueueSkip, nil
	default:
		if matchesAny(anti, oldPod) {
			return queue(logger, pod, "a pod the pod's anti-affinity rejected is gone")
		}
		theirs, err := fwk.GetAffinityTerms(oldPod, fwk.GetPodAntiAffinityTerms(oldPod.Spec.Affinity))
		if err != nil {
			return fwk.Queue, err
		}
		if matchesAny(theirs, pod) {
			return queue(logger, pod, "a pod whose anti-affinity rejected the pod is gone")
		}
		return fwk.QueueSkip, nil
	}
}

func queue(logger klog.Logger, pod *v1.Pod, why string) (fwk.QueueingHint, error) {
	logger.V(5).Info("Retrying: "+why, "pod", klog.KObj(pod))
	return fwk.Queue, nil
}

// isSchedulableAfterNodeChange retries when a node gains, or moves within, a
// topology key of the pod's affinity, or loses or moves within a key of its
// anti-affinity; any new node may help anti-affinity.
func (pl *PodAffinity) isSchedulableAfterNodeChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	oldNode, newNode, err := util.As[*v1.Node](oldObj, newObj)
	if err != nil {
		return fwk.Queue, err
	}
	affinity, err := fwk.GetAffinityTerms(pod, fwk.GetPodAffinityTerms(pod.Spec.Affinity))
	if err != nil {
		return fwk.Queue, err
	}
	for _, t := range affinity {
		newValue, hasNew := newNode.Labels[t.TopologyKey]
		if oldNode == nil {
			if hasNew {
				return queue(logger, pod, "a node with an affinity topology key was added")
			}
			continue
		}
		oldValue, hasOld := oldNode.Labels[t.TopologyKey]
		if hasNew && (!hasOld || oldValue != newValue) {
			return queue(logger, pod, "a node gained or changed an affinity topology key")
		}
	}
	anti, err := fwk.GetAffinityTerms(pod, fwk.GetPodAntiAffinityTerms(pod.Spec.Affinity))
	if err != nil {
		return fwk.Queue, err
	}
	for _, t := range anti {
		if oldNode == nil {
			return queue(logger, pod, "a node was added")
		}
		oldValue, hasOld := oldNode.Labels[t.TopologyKey]
		newValue, hasNew := newNode.Labels[t.TopologyKey]
		if hasOld && (!hasNew || oldValue != newValue) {
			return queue(logger, pod, "a node lost or changed an anti-affinity topology key")
		}
	}
	return fwk.QueueSkip, nil
}
