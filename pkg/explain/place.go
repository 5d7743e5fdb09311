package explain

import (
	"context"
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
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
	node, _, err := s.cycle(ctx, f, pod)
	return node, err
}

// cycle is Place with the profile chosen: it returns the cycle's state too,
// which preemption, run after a failed cycle, starts from.
func (s *Session) cycle(ctx context.Context, f framework.Framework, pod *v1.Pod) (string, fwk.CycleState, error) {
	logger := klog.FromContext(ctx)
	cache := s.c.sched.Cache
	if err := cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return "", nil, err
	}
	info, err := framework.NewPodInfo(pod)
	if err != nil {
		return "", nil, err
	}
	state := framework.NewCycleState()
	state.SetRecordPluginMetrics(false)
	result, err := s.c.sched.SchedulePod(ctx, f, state, &framework.QueuedPodInfo{PodInfo: info})
	if err != nil {
		return "", state, err
	}
	node := result.SuggestedHost
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = node
	if err := cache.AssumePod(logger, assumed); err != nil {
		return "", state, fmt.Errorf("assuming %s/%s on %s: %w", pod.Namespace, pod.Name, node, err)
	}
	if st := f.RunReservePluginsReserve(ctx, state, assumed, node); !st.IsSuccess() {
		f.RunReservePluginsUnreserve(ctx, state, assumed, node)
		_ = cache.ForgetPod(logger, assumed)
		return "", state, fmt.Errorf("reserving %s for %s/%s: %w", node, pod.Namespace, pod.Name, st.AsError())
	}
	s.recordAssumed(ctx, f, state, assumed)
	return node, state, nil
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
