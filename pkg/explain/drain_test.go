package explain_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func ownedBy(p *st.PodWrapper, kind, name string) *st.PodWrapper {
	return p.OwnerReference(name, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind})
}

func budget(name, app string, allowed int32) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
		Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}

// TestDrain drains the two nodes of zone a: DaemonSet and mirror pods stay,
// a bare pod goes for good, the others are placed again on zone b by
// priority (on n3: n4 is tainted), one that needs zone a stays pending
// because both its nodes are cordoned, and a budget allowing fewer disruptions than the drain evicts is
// named.
func TestDrain(t *testing.T) {
	ours := "placement-scheduler"
	mirror := runningPod("static", "n2", ours).Obj()
	mirror.Annotations = map[string]string{v1.MirrorPodAnnotationKey: "hash"}
	objs := []runtime.Object{
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		driftNode("n1", "a", "x"), driftNode("n2", "a", "x"), driftNode("n3", "b", "y"),
		driftNode("n4", "b", "y", v1.Taint{Key: "reserved", Effect: v1.TaintEffectNoSchedule}),
		ownedBy(runningPod("web-1", "n1", ours).Label("app", "web"), "ReplicaSet", "web-abc").Obj(),
		ownedBy(runningPod("web-2", "n2", ours).Label("app", "web"), "ReplicaSet", "web-abc").Obj(),
		ownedBy(runningPod("critical", "n2", ours).Priority(1000), "ReplicaSet", "critical-abc").Obj(),
		ownedBy(runningPod("needs-a", "n1", ours).NodeSelector(map[string]string{v1.LabelTopologyZone: "a"}), "StatefulSet", "db").Obj(),
		ownedBy(runningPod("agent-n1", "n1", ours), "DaemonSet", "agent").Obj(),
		mirror,
		runningPod("bare", "n2", ours).Obj(),
		ownedBy(runningPod("elsewhere", "n3", ours).Label("app", "web"), "ReplicaSet", "web-abc").Obj(),
		budget("web", "web", 1),
		budget("roomy", "web", 5),
	}
	o := testOptions(t, fake.NewClientset(objs...))
	s, err := explain.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)

	if _, err := s.Drain(context.Background(), []string{"n1", "nope"}); !errors.As(err, new(*explain.NodesNotFoundError)) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown node: err = %v, want NodesNotFoundError naming it", err)
	}
	plan, err := s.Drain(context.Background(), []string{"n2", "n1"})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range plan.Evicted {
		order = append(order, e.Name)
		switch {
		case e.Name == "needs-a":
			if e.Node != "" || !strings.Contains(e.Unschedulable, "2 node(s) were unschedulable") {
				t.Errorf("needs-a: node %q, %q; want pending because zone a is cordoned", e.Node, e.Unschedulable)
			}
		case e.Node != "n3":
			t.Errorf("%s placed on %q (%s), want n3, the one untainted node left", e.Name, e.Node, e.Unschedulable)
		}
	}
	if got, want := strings.Join(order, ","), "critical,needs-a,web-1,web-2"; got != want {
		t.Errorf("evicted in order %s, want %s (priority first, then name)", got, want)
	}
	if plan.Placed != 3 || plan.Pending != 1 || plan.Remaining != 2 || strings.Join(plan.Drained, ",") != "n1,n2" {
		t.Errorf("placed %d, pending %d, remaining %d, drained %v; want 3, 1, 2, [n1 n2]", plan.Placed, plan.Pending, plan.Remaining, plan.Drained)
	}
	if len(plan.Stay) != 2 || plan.Stay[0].Name != "agent-n1" || plan.Stay[1].Name != "static" {
		t.Errorf("stay %+v, want the DaemonSet pod and the mirror pod", plan.Stay)
	}
	if len(plan.Unmanaged) != 1 || plan.Unmanaged[0].Name != "bare" {
		t.Errorf("unmanaged %+v, want bare", plan.Unmanaged)
	}
	// pkg/kubectlplacement prints this answer (TestPrintGolden).
	fixtures.Golden(t, "drain.json", answerJSON(t, plan), *update)
	if len(plan.Budgets) != 1 || plan.Budgets[0].Name != "web" || plan.Budgets[0].Evicts != 2 || plan.Budgets[0].DisruptionsAllowed != 1 {
		t.Errorf("budgets %+v, want web: evicts 2, allows 1", plan.Budgets)
	}
}

// TestDrainForgetsPodsThatGo: a pod without a controller leaves with the
// drain, so its anti-affinity no longer keeps the evicted pods out of its
// zone.
func TestDrainForgetsPodsThatGo(t *testing.T) {
	ours := "placement-scheduler"
	objs := []runtime.Object{
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		driftNode("m1", "a", "x"), driftNode("m2", "a", "x"),
		runningPod("repeller", "m1", ours).PodAntiAffinityIn("app", v1.LabelTopologyZone, []string{"web"}, st.PodAntiAffinityWithRequiredReq).Obj(),
		ownedBy(runningPod("web-x", "m1", ours).Label("app", "web"), "ReplicaSet", "web-abc").Obj(),
	}
	s, err := explain.Open(context.Background(), testOptions(t, fake.NewClientset(objs...)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	plan, err := s.Drain(context.Background(), []string{"m1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Unmanaged) != 1 || len(plan.Evicted) != 1 || plan.Evicted[0].Node != "m2" {
		t.Errorf("unmanaged %+v, evicted %+v; want repeller gone and web-x on m2", plan.Unmanaged, plan.Evicted)
	}
}
