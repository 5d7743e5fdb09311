package podaffinity

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"
)

// EventsToRegister lists what can lift a rejection: a placed pod appearing,
// changing labels or leaving; the pending pod's own labels changing (its
// self-affinity and others' anti-affinity read them); nodes appearing or
// changing labels (topology domains); and namespaces appearing or changing
// labels (namespaceSelectors read them).
func (pl *PodAffinity) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.AssignedPod, ActionType: fwk.Add | fwk.UpdatePodLabel | fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodChange},
		{Event: fwk.ClusterEvent{Resource: fwk.TargetPod, ActionType: fwk.UpdatePodLabel}, QueueingHintFn: alwaysQueue},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
		{Event: fwk.ClusterEvent{Resource: NamespaceResource, ActionType: fwk.Add | fwk.Update}, QueueingHintFn: pl.isSchedulableAfterNamespaceChange},
	}, nil
}

// NamespaceResource names namespaces as an event resource. The framework has
// no built-in namespace events, so the scheduler serves them from a dynamic
// informer ("<resource>.<version>.<group>", the core group being empty).
const NamespaceResource fwk.EventResource = "namespaces.v1."

// isSchedulableAfterNamespaceChange retries when a namespace's labels change
// in a way that can change a match: the pending pod's own namespace (existing
// pods' namespaceSelectors read its labels), or a namespace that one of the
// pod's namespaceSelectors starts or stops selecting. The objects come from a
// dynamic informer, so they are read through their metadata.
func (pl *PodAffinity) isSchedulableAfterNamespaceChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	newMeta, err := meta.Accessor(newObj)
	if err != nil {
		return fwk.Queue, fmt.Errorf("%s: namespace event: %w", Name, err)
	}
	// The pod this may requeue must see these labels; see namespaceTracker.
	pl.namespaces.observe(newMeta)
	newName, newLabels := newMeta.GetName(), labels.Set(newMeta.GetLabels())
	var oldLabels labels.Set
	if oldObj != nil {
		if oldLabels, err = namespaceLabelsOf(oldObj); err != nil {
			return fwk.Queue, err
		}
		if labels.Equals(oldLabels, newLabels) {
			return fwk.QueueSkip, nil
		}
	}
	if newName == pod.Namespace {
		return queue(logger, pod, "the pod's namespace changed labels")
	}
	a := pod.Spec.Affinity
	var terms []v1.PodAffinityTerm
	if a != nil && a.PodAffinity != nil {
		terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
	}
	if a != nil && a.PodAntiAffinity != nil {
		terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
	}
	for _, t := range terms {
		if t.NamespaceSelector == nil {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(t.NamespaceSelector)
		if err != nil {
			return fwk.Queue, err
		}
		if oldObj == nil && selector.Matches(newLabels) || oldObj != nil && selector.Matches(oldLabels) != selector.Matches(newLabels) {
			return queue(logger, pod, "a namespaceSelector of the pod selects differently")
		}
	}
	return fwk.QueueSkip, nil
}

// namespaceLabelsOf reads a namespace event object's labels.
func namespaceLabelsOf(obj any) (labels.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: namespace event: %w", Name, err)
	}
	return labels.Set(m.GetLabels()), nil
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
	if oldPod == nil && newPod == nil {
		// Nothing to read (events always carry a pod): retry rather than guess.
		return fwk.Queue, nil
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
		if !counting.MatchesAll(affinity, oldPod) && counting.MatchesAll(affinity, newPod) {
			return queue(logger, pod, "a placed pod now satisfies the pod's affinity")
		}
		if counting.MatchesAny(anti, oldPod) && !counting.MatchesAny(anti, newPod) {
			return queue(logger, pod, "a placed pod no longer matches the pod's anti-affinity")
		}
		return fwk.QueueSkip, nil
	case newPod != nil:
		if counting.MatchesAll(affinity, newPod) {
			return queue(logger, pod, "a placed pod satisfies the pod's affinity")
		}
		return fwk.QueueSkip, nil
	default:
		if counting.MatchesAny(anti, oldPod) {
			return queue(logger, pod, "a pod the pod's anti-affinity rejected is gone")
		}
		theirs, err := fwk.GetAffinityTerms(oldPod, fwk.GetPodAntiAffinityTerms(oldPod.Spec.Affinity))
		if err != nil {
			return fwk.Queue, err
		}
		if counting.MatchesAny(theirs, pod) {
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
	if newNode == nil {
		// The registered events always carry the node; without one there is
		// nothing to read, and retrying is the answer that loses nothing.
		return fwk.Queue, nil
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
