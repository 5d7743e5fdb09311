package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestDrain lets our scheduler place three one-per-node pods on a pool of
// four nodes, asks `kubectl placement drain` about two of the nodes that
// hold them, then does what a drain and a ReplicaSet would do (cordon,
// delete, create again) and expects the scheduler to bind as drain said:
// the higher-priority pod on the one free pool node, the other pending with
// the predicted message; the DaemonSet pod stays, the bare pod is listed as
// lost, and the budget with no disruptions left is named.
func TestDrain(t *testing.T) {
	e, explainer := newExplainEnv(t)
	const pool = "drain.test/pool"
	for _, n := range []string{"node-a1", "node-a2", "node-b1", "node-b2"} {
		e.patchNode(n, func(n *v1.Node) { n.Labels[pool] = "p" })
	}
	solo := func(name string, priority int32) *v1.Pod {
		return owned(pausePod(name).Label("app", "solo").NodeSelector(map[string]string{pool: "p"}).
			PodAntiAffinityExists("app", v1.LabelHostname, st.PodAntiAffinityWithRequiredReq).
			Priority(priority).Obj(), "ReplicaSet", "solo-rs")
	}
	pods := []*v1.Pod{solo("solo-high", 100), solo("solo-low", 10), solo("solo-mid", 50)}
	nodeOf := map[string]string{}
	for _, p := range pods {
		nodeOf[p.Name] = e.waitBound(e.createPod(p), 30*time.Second)
	}
	drained := []string{nodeOf["solo-high"], nodeOf["solo-low"]}
	var free string
	for _, n := range []string{"node-a1", "node-a2", "node-b1", "node-b2"} {
		if !slices.Contains(drained, n) && n != nodeOf["solo-mid"] {
			free = n
		}
	}
	agent := owned(pausePod("agent").Node(drained[0]).Obj(), "DaemonSet", "agent")
	bare := pausePod("bare").Node(drained[1]).Obj()
	e.createPod(agent)
	e.createPod(bare)
	e.createFullBudget("solo", "solo", 3)

	out, err := runPlacement(explainer, append([]string{"drain", "-o", "json"}, drained...)...)
	if err != nil {
		t.Fatalf("drain %v: %v", drained, err)
	}
	var plan explain.DrainPlan
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatalf("drain -o json: %v\n%s", err, out)
	}
	if len(plan.Evicted) != 2 || plan.Evicted[0].Name != "solo-high" || plan.Evicted[0].Node != free ||
		plan.Evicted[1].Name != "solo-low" || plan.Evicted[1].Node != "" || plan.Evicted[1].Unschedulable == "" {
		t.Fatalf("evicted %+v; want solo-high placed on %s, the free pool node, then solo-low pending", plan.Evicted, free)
	}
	if len(plan.Stay) != 1 || plan.Stay[0].Name != "agent" || len(plan.Unmanaged) != 1 || plan.Unmanaged[0].Name != "bare" {
		t.Errorf("stay %+v, unmanaged %+v; want agent and bare", plan.Stay, plan.Unmanaged)
	}
	if len(plan.Budgets) != 1 || plan.Budgets[0].Name != "solo" || plan.Budgets[0].Evicts != 2 {
		t.Errorf("budgets %+v, want solo evicting 2", plan.Budgets)
	}

	// Do what the drain and the ReplicaSet would.
	for _, n := range drained {
		e.patchNode(n, func(n *v1.Node) { n.Spec.Unschedulable = true })
	}
	var again []*v1.Pod
	for _, name := range []string{"solo-high", "solo-low"} {
		if err := e.cs.CoreV1().Pods("default").Delete(e.ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*v1.Pod{solo("solo-high-again", 100), solo("solo-low-again", 10)} {
		again = append(again, e.createPod(p))
	}
	if node := e.waitBound(again[0], 30*time.Second); node != free {
		t.Errorf("solo-high-again bound to %s; drain said %s", node, free)
	}
	if msg := e.waitFailedScheduling(again[1], 30*time.Second); !strings.HasPrefix(msg, plan.Evicted[1].Unschedulable) {
		t.Errorf("solo-low-again: FailedScheduling %q; drain said %q", msg, plan.Evicted[1].Unschedulable)
	}

	if _, err := runPlacement(explainer, "drain", "node-nope"); err == nil || !strings.Contains(err.Error(), "nodes not found: [node-nope]") {
		t.Errorf("an unknown node: err = %v, want it named", err)
	}
	if _, err := runPlacement(explainer, "drain"); err == nil || !strings.Contains(err.Error(), "name the nodes to drain") {
		t.Errorf("no nodes: err = %v", err)
	}
}

// owned makes a controller own pod, as if it had created it (no controller
// runs here; the apiserver checks only that the reference is whole).
func owned(pod *v1.Pod, kind, name string) *v1.Pod {
	pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID(kind + "-" + name), Controller: new(true)}}
	return pod
}

// createFullBudget creates a PodDisruptionBudget over the pods labelled
// app=app that needs all `pods` of them, with the status the disruption
// controller (not running here) would write: no disruption allowed.
func (e *env) createFullBudget(name, app string, pods int32) {
	e.t.Helper()
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(pods)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	created, err := e.cs.PolicyV1().PodDisruptionBudgets("default").Create(e.ctx, pdb, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	created.Status = policyv1.PodDisruptionBudgetStatus{CurrentHealthy: pods, DesiredHealthy: pods, ExpectedPods: pods, ObservedGeneration: created.Generation}
	if _, err := e.cs.PolicyV1().PodDisruptionBudgets("default").UpdateStatus(e.ctx, created, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}
