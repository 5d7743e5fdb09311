package explain

import (
	"context"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// PendingPods explains every pod of the configuration's profiles that is
// not bound, not terminal and not being deleted, in namespace (all
// namespaces when it is ""), ordered by namespace and name.
func (s *Session) PendingPods(ctx context.Context, namespace string) (*PendingPods, error) {
	// The scheduler's pod informer keeps no namespace index: filter here.
	all, err := s.c.factory.Core().V1().Pods().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var pods []*v1.Pod
	for _, p := range all {
		if namespace == "" || p.Namespace == namespace {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	out := &PendingPods{TypeMeta: typeMeta("PendingPods"), Nodes: s.Nodes(), Pods: []PendingPod{}}
	for _, pod := range pods {
		if !s.isPending(pod) {
			continue
		}
		out.Pods = append(out.Pods, s.pendingPod(ctx, pod))
	}
	return out, nil
}

// isPending: waiting for a node, and ours to schedule.
func (s *Session) isPending(pod *v1.Pod) bool {
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil ||
		pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
		return false
	}
	_, ours := s.c.sched.Profiles[pod.Spec.SchedulerName]
	return ours
}

func (s *Session) pendingPod(ctx context.Context, pod *v1.Pod) PendingPod {
	p := PendingPod{Namespace: pod.Namespace, Name: pod.Name, Profile: pod.Spec.SchedulerName}
	e, err := s.Explain(ctx, pod)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Schedulable = len(e.Feasible) > 0
	p.Pick = e.Pick
	p.Unschedulable = e.Unschedulable
	if len(e.Rejected) > 0 {
		blocker := e.Rejected[0]
		p.Blocker = &blocker
	}
	return p
}
