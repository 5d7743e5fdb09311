package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// TestSimulatePreemption: every schedulable node is full; only node-b1
// holds pods of lower priority than a new 2-CPU pod of class high. simulate
// says the pod preempts there, naming the one victim DefaultPreemption
// needs (the lower of the two: the other is reprieved); --no-preemption
// leaves it pending. Then the pod is created for real: the scheduler
// preempts exactly that victim, and once the victim is gone (no kubelet
// ends its graceful deletion: the test does) binds the pod where simulate
// said.
func TestSimulatePreemption(t *testing.T) {
	e, explainer := newExplainEnv(t)
	rec := &requests{}
	class := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
	if _, err := e.cs.SchedulingV1().PriorityClasses().Create(e.ctx, class, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Each pod is the pause container's 100m plus the request given.
	existing := []*v1.Pod{
		pausePod("low-b1-first").Node("node-b1").Priority(10).Req(map[v1.ResourceName]string{v1.ResourceCPU: "1900m"}).Obj(),
		pausePod("low-b1-second").Node("node-b1").Priority(20).Req(map[v1.ResourceName]string{v1.ResourceCPU: "1400m"}).Obj(),
	}
	for _, n := range []string{"node-a1", "node-a2", "node-b2", "node-c1"} {
		existing = append(existing, pausePod("equal-"+n).Node(n).Priority(1000).Req(map[v1.ResourceName]string{v1.ResourceCPU: "3400m"}).Obj())
	}
	for _, p := range existing {
		e.createPod(p)
	}
	manifest := fixtures.DeploymentYAML("urgent", 1, "2", "      priorityClassName: high\n")
	file := manifestFile(t, manifest)

	var sim explain.Simulation
	placement(t, rec, explainer, &sim, "simulate", "-f", file)
	w := sim.Workloads[0]
	if w.Placed != 1 || len(w.Preemptions) != 1 {
		t.Fatalf("placed %d, preemptions %+v; want one placed by preempting", w.Placed, w.Preemptions)
	}
	p := w.Preemptions[0]
	if p.Node != "node-b1" || p.NodeName != "node-b1" || len(p.Victims) != 1 || p.Victims[0].Name != "low-b1-first" {
		t.Fatalf("preemption %+v; want low-b1-first preempted on node-b1", p)
	}
	var without explain.Simulation
	placement(t, rec, explainer, &without, "simulate", "-f", file, "--no-preemption")
	if w := without.Workloads[0]; w.Pending != 1 || len(w.Preemptions) != 0 || w.FirstPending == nil ||
		!slices.Equal(w.FirstPending.PreemptionCandidates, []string{"node-b1"}) {
		t.Fatalf("--no-preemption: %+v; want the pod pending, node-b1 named as a candidate", w)
	}
	if writes := rec.writes(); len(writes) > 0 {
		t.Errorf("simulate wrote: %v", writes)
	}

	ws, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	pod := ws[0].Pod(0)
	// The apiserver's Priority admission, off in this control plane, would
	// set this from the class.
	pod.UID, pod.Spec.Priority = "", ptr.To[int32](1000)
	pod = e.createPod(pod)
	deleted := e.waitDeleted(existing, 30*time.Second)
	if !slices.Equal(deleted, []string{"low-b1-first"}) {
		t.Fatalf("the scheduler preempted %v; simulate said low-b1-first", deleted)
	}
	// The victim is still terminating (no kubelet ends it): the pod's
	// latest decision is the nomination.
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	if rec := e.waitDecision(dyn, pod, decision.Nominated); rec.Node != "node-b1" || !strings.Contains(rec.Message, "preemption:") {
		t.Errorf("record %+v; want node-b1 nominated, with preemption's message", rec)
	}
	e.deletePod(existing[0])
	if node := e.waitBound(pod, 30*time.Second); node != p.NodeName {
		t.Errorf("bound to %s; simulate said %s", node, p.NodeName)
	}
	if rec := e.waitDecision(dyn, pod, decision.Bound); rec.Node != p.NodeName || rec.Attempts < 2 {
		t.Errorf("record %+v; want bound to %s in a later attempt", rec, p.NodeName)
	}
}

// waitDeleted waits until one of pods is being deleted or gone, lets the
// scheduler's preemption finish its other deletions, and names those pods.
func (e *env) waitDeleted(pods []*v1.Pod, timeout time.Duration) []string {
	e.t.Helper()
	var names []string
	list := func(ctx context.Context) error {
		names = nil
		for _, p := range pods {
			got, err := e.cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && got.DeletionTimestamp != nil) {
				names = append(names, p.Name)
			} else if err != nil {
				return err
			}
		}
		return nil
	}
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := list(ctx); err != nil {
			return false, err
		}
		return len(names) > 0, nil
	})
	if err != nil {
		e.t.Fatalf("no pod deleted within %v: %v", timeout, err)
	}
	// Victims of one preemption are deleted together; give the rest a moment.
	time.Sleep(time.Second)
	if err := list(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return names
}
