package explain

import (
	"context"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Mark starts recording what AddNodes, Simulate and Capacity change in the
// session's cache, so that Rollback can take it back: one listing of the
// cluster then serves several trials (FindNodesNeeded).
func (s *Session) Mark() {
	s.undo = []func(){}
}

// Rollback undoes, newest first, the changes since Mark and stops
// recording: placed pods are unreserved and forgotten, preempted ones come
// back, added nodes leave.
func (s *Session) Rollback() {
	for _, undo := range slices.Backward(s.undo) {
		undo()
	}
	s.undo = nil
}

func (s *Session) record(undo func()) {
	if s.undo != nil {
		s.undo = append(s.undo, undo)
	}
}

func (s *Session) recordAddedNode(logger klog.Logger, node *v1.Node) {
	s.record(func() { _ = s.c.sched.Cache.RemoveNode(logger, node) })
}

func (s *Session) recordAssumed(ctx context.Context, f framework.Framework, state fwk.CycleState, assumed *v1.Pod) {
	s.record(func() {
		f.RunReservePluginsUnreserve(ctx, state, assumed, assumed.Spec.NodeName)
		_ = s.c.sched.Cache.ForgetPod(klog.FromContext(ctx), assumed)
	})
}

// recordRemoved brings a preempted pod back as it was: assumed when this
// session placed it (its own undo, later, forgets it), added otherwise.
func (s *Session) recordRemoved(logger klog.Logger, pod *v1.Pod, assumed bool) {
	s.record(func() {
		if assumed {
			_ = s.c.sched.Cache.AssumePod(logger, pod)
		} else {
			s.c.sched.Cache.AddPod(logger, pod)
		}
	})
}
