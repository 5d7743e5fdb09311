package explain

import (
	"context"
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Place runs one scheduling cycle for pod, as the scheduler does (the
// profile's PreFilter, Filter over the share of nodes
// percentageOfNodesToScore asks for, PreScore, Score, a random pick among
// the best), then assumes it on the chosen node and runs Reserve, so that
// later pods of the session meet it. When no node fits, the error is the
// scheduler's: a *framework.FitError, or scheduler.ErrNoNodesAvailable in a
// cluster without nodes (Unschedulable tells them from other errors).
// Nothing is written to the cluster.
func (s *Session) Place(ctx context.Context, pod *v1.Pod) (string, error) {
	f, err := s.framework(pod)
	if err != nil {
		return "", err
	}
	ctx = quiet(ctx)
	logger := klog.FromContext(ctx)
	cache := s.c.sched.Cache
	if err := cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return "", err
	}
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return "", err
	}
	state := framework.NewCycleState()
	state.SetRecordPluginMetrics(false)
	result, err := s.c.sched.SchedulePod(ctx, f, state, &framework.QueuedPodInfo{PodInfo: info})
	if err != nil {
		return "", err
	}
	node := result.SuggestedHost
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = node
	if err := cache.AssumePod(logger, assumed); err != nil {
		return "", fmt.Errorf("assuming %s/%s on %s: %w", pod.Namespace, pod.Name, node, err)
	}
	if st := f.RunReservePluginsReserve(ctx, state, assumed, node); !st.IsSuccess() {
		f.RunReservePluginsUnreserve(ctx, state, assumed, node)
		_ = cache.ForgetPod(logger, assumed)
		return "", fmt.Errorf("reserving %s for %s/%s: %w", node, pod.Namespace, pod.Name, st.AsError())
	}
	return node, nil
}

// Unschedulable returns the FailedScheduling message for an error of Place
// that means the pod fits nowhere, and false for any other error.
func Unschedulable(err error) (string, bool) {
	var fitErr *framework.FitError
	if errors.As(err, &fitErr) || errors.Is(err, scheduler.ErrNoNodesAvailable) {
		return err.Error(), true
	}
	return "", false
}

// Zone is the node's topology.kubernetes.io/zone label, "" when it has none
// or is not in the session.
func (s *Session) Zone(node string) string {
	ni, err := s.c.snapshot.NodeInfos().Get(node)
	if err != nil || ni.Node() == nil {
		return ""
	}
	return ni.Node().Labels[v1.LabelTopologyZone]
}

// Nodes counts the nodes of the session's cluster.
func (s *Session) Nodes() int {
	return s.c.sched.Cache.NodeCount()
}

// NamespaceExists says whether the namespace exists in the listed cluster;
// it is true when the profile lists no namespaces, for then it cannot tell.
func (s *Session) NamespaceExists(name string) bool {
	inf := s.c.factory.Core().V1().Namespaces().Informer()
	if !inf.HasSynced() {
		return true
	}
	_, ok, err := inf.GetStore().GetByKey(name)
	return ok || err != nil
}

// PreemptionCandidates lists the nodes where pod would fit if every pod of
// lower priority on them were evicted: the first question the scheduler's
// preemption asks of a node. It does not weigh PodDisruptionBudgets or pick
// victims; it says only that preemption has somewhere to look. A pod whose
// preemptionPolicy is Never has none.
func (s *Session) PreemptionCandidates(ctx context.Context, pod *v1.Pod) ([]string, error) {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == v1.PreemptNever {
		return nil, nil
	}
	f, err := s.framework(pod)
	if err != nil {
		return nil, err
	}
	ctx = quiet(ctx)
	logger := klog.FromContext(ctx)
	if err := s.c.sched.Cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return nil, err
	}
	state := framework.NewCycleState()
	state.SetRecordPluginMetrics(false)
	if _, st, _ := f.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
		// PreFilter rejects the pod whatever runs where.
		return nil, nil
	}
	nodes, err := s.c.snapshot.NodeInfos().List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ni := range nodes {
		if fitsWithoutLowerPriority(ctx, f, state, pod, ni) {
			out = append(out, ni.Node().Name)
		}
	}
	return out, nil
}

func fitsWithoutLowerPriority(ctx context.Context, f framework.Framework, state fwk.CycleState, pod *v1.Pod, ni fwk.NodeInfo) bool {
	logger := klog.FromContext(ctx)
	priority := podPriority(pod)
	trial := ni.Snapshot()
	trialState := state.Clone()
	removed := 0
	for _, p := range ni.GetPods() {
		if podPriority(p.GetPod()) >= priority {
			continue
		}
		if trial.RemovePod(logger, p.GetPod()) != nil {
			return false
		}
		if !f.RunPreFilterExtensionRemovePod(ctx, trialState, pod, p, trial).IsSuccess() {
			return false
		}
		removed++
	}
	return removed > 0 && f.RunFilterPluginsWithNominatedPods(ctx, trialState, pod, trial).IsSuccess()
}

func podPriority(p *v1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

// Priorities sets spec.priority and spec.preemptionPolicy as the API server's
// Priority admission does on create: from the pod's PriorityClass, or the
// cluster's global default class, or 0.
type Priorities struct {
	classes map[string]*schedulingv1.PriorityClass
	global  *schedulingv1.PriorityClass
}

// ListPriorities reads the cluster's PriorityClasses.
func ListPriorities(ctx context.Context, cs kubernetes.Interface) (*Priorities, error) {
	list, err := cs.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Describe(err, "list", "priorityclasses.scheduling.k8s.io", "", "")
	}
	p := &Priorities{classes: map[string]*schedulingv1.PriorityClass{}}
	for i := range list.Items {
		c := &list.Items[i]
		p.classes[c.Name] = c
		if c.GlobalDefault && (p.global == nil || c.Value < p.global.Value) {
			p.global = c
		}
	}
	return p, nil
}

// Admit sets pod's priority; a class that does not exist is the error the
// API server would give.
func (p *Priorities) Admit(pod *v1.Pod) error {
	if pod.Spec.Priority != nil {
		return nil
	}
	class := p.global
	if name := pod.Spec.PriorityClassName; name != "" {
		if class = p.classes[name]; class == nil {
			return fmt.Errorf("spec.priorityClassName: no PriorityClass with name %s was found", name)
		}
	}
	var value int32
	if class != nil {
		value = class.Value
		if pod.Spec.PreemptionPolicy == nil && class.PreemptionPolicy != nil {
			policy := *class.PreemptionPolicy
			pod.Spec.PreemptionPolicy = &policy
		}
	}
	pod.Spec.Priority = &value
	return nil
}
