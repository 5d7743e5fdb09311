package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestNodesNeeded: `simulate --nodes-needed --like node-a1` says N for eight
// one-per-node replicas; with N−1 such nodes added for real the scheduler
// binds all but one (as `simulate --add-nodes N−1` says), and with the N-th
// the last one binds too.
func TestNodesNeeded(t *testing.T) {
	e, explainer := newExplainEnv(t)
	rec := &requests{}
	namespace := "needed"
	if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	file := manifestFile(t, fixtures.DeploymentYAML("spread", 8, "100m", `      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: spread}}, topologyKey: kubernetes.io/hostname}
`))
	var needed explain.NodesNeeded
	placement(t, rec, explainer, &needed, "simulate", "-f", file, "-n", namespace, "--nodes-needed", "--like", "node-a1")
	// Five schedulable nodes (the sixth is tainted): three more.
	if needed.Needed != 3 || needed.Template != "node-a1" {
		t.Fatalf("nodes needed %+v, want 3 like node-a1", needed)
	}
	var fewer explain.Simulation
	placement(t, rec, explainer, &fewer, "simulate", "-f", file, "-n", namespace, "--add-nodes", fmt.Sprint(needed.Needed-1), "--like", "node-a1")
	if w := fewer.Workloads[0]; w.Placed != 7 || w.Pending != 1 || len(fewer.AddedNodes) != 2 {
		t.Fatalf("with %d added: placed %d, pending %d (added %v); want 7 and 1", needed.Needed-1, w.Placed, w.Pending, fewer.AddedNodes)
	}
	if writes := rec.writes(); len(writes) > 0 {
		t.Errorf("the commands wrote: %v", writes)
	}

	addNode := func(i int) {
		n := fixtures.Nodes()[0].DeepCopy()
		n.Name = fmt.Sprintf("node-a1-real-%d", i)
		n.Labels[v1.LabelHostname] = n.Name
		e.createNodes(n)
	}
	for i := 1; i < needed.Needed; i++ {
		addNode(i)
	}
	e.createReplicas(file, namespace, 8)
	if got := e.settle(namespace, 8); got.bound != 7 || len(got.unschedulable) != 1 {
		t.Fatalf("with %d nodes added: bound %d, pending %d; want 7 and 1", needed.Needed-1, got.bound, len(got.unschedulable))
	}
	addNode(needed.Needed)
	err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return e.settle(namespace, 8).bound == 8, nil
	})
	if err != nil {
		t.Errorf("with %d nodes added, not every replica bound: %v", needed.Needed, err)
	}
}
