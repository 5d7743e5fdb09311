package explain_test

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func TestNodeTemplate(t *testing.T) {
	tests := []struct{ name, manifest, wantErr string }{
		{"a node", "apiVersion: v1\nkind: Node\nmetadata: {name: big, labels: {size: big}}\nstatus: {allocatable: {cpu: '8', pods: '110'}}\n", ""},
		{"a pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "is a Pod, not a Node"},
		{"no allocatable", "apiVersion: v1\nkind: Node\nmetadata: {name: empty}\n", "no status.allocatable"},
		{"not yaml", "{{{", "reading the node template"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node, err := explain.NodeTemplate([]byte(tc.manifest))
			if tc.wantErr == "" {
				if err != nil || node.Labels["size"] != "big" {
					t.Errorf("got %v, %v; want the node", node, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// nodesNeededCluster opens sessions over the demo nodes, as many as a search
// needs, and returns one of its untainted nodes as the template.
func nodesNeededCluster(t *testing.T) (func(context.Context) (*explain.Session, error), *v1.Node) {
	objs := []runtime.Object{&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}}
	for _, n := range fixtures.Nodes() {
		objs = append(objs, n)
	}
	cs := fake.NewClientset(objs...)
	open := func(ctx context.Context) (*explain.Session, error) {
		s, err := explain.Open(ctx, testOptions(t, cs))
		if err == nil {
			t.Cleanup(s.Close)
		}
		return s, err
	}
	return open, fixtures.Nodes()[0]
}

// TestAddNodes: added nodes take the template's shape under their own names,
// and replicas land on them.
func TestAddNodes(t *testing.T) {
	open, template := nodesNeededCluster(t)
	s, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNodes(context.Background(), template, -1); err == nil {
		t.Error("adding -1 nodes worked")
	}
	if _, err := s.AddNodes(context.Background(), template, explain.MaxAddedNodes+1); err == nil {
		t.Error("adding more than the most nodes worked")
	}
	names, err := s.AddNodes(context.Background(), template, 3)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "node-a1-added-1,node-a1-added-2,node-a1-added-3" || s.Nodes() != 9 {
		t.Errorf("added %v (%d nodes); want three copies of node-a1", names, s.Nodes())
	}
	prio, err := explain.ListPriorities(context.Background(), fake.NewClientset())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := s.Simulate(context.Background(), readWorkloads(t, deployment("spread", 8, hostnameAntiAffinity), "default"), prio)
	if err != nil {
		t.Fatal(err)
	}
	if w := sim.Workloads[0]; w.Placed != 8 || w.Pending != 0 {
		t.Errorf("placed %d, pending %d; want all 8 with 3 nodes added", w.Placed, w.Pending)
	}
	// The snapshot the simulation took holds them in the template's zone.
	if zone := s.Zone(names[0]); zone != "zone-a" {
		t.Errorf("%s is in zone %q, want zone-a like node-a1", names[0], zone)
	}
}

// TestFindNodesNeeded: eight one-per-node replicas on five schedulable nodes
// need three more; a selector no node or template carries needs a number
// that does not exist, and the simulation says why.
func TestFindNodesNeeded(t *testing.T) {
	open, template := nodesNeededCluster(t)
	s, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prio, err := explain.ListPriorities(context.Background(), fake.NewClientset())
	if err != nil {
		t.Fatal(err)
	}
	ws := readWorkloads(t, deployment("spread", 8, hostnameAntiAffinity), "default")
	got, err := explain.FindNodesNeeded(context.Background(), s, ws, prio, template, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got.Needed != 3 || got.Nodes != 6 || got.Simulation.Workloads[0].Placed != 8 || len(got.Simulation.AddedNodes) != 3 {
		t.Errorf("needed %d (cluster %d, placed %d, added %v); want 3 more on 6 nodes, all 8 placed", got.Needed, got.Nodes, got.Simulation.Workloads[0].Placed, got.Simulation.AddedNodes)
	}
	// 0, 1, 2, 4 (doubling), then 3 (bisecting).
	if got.Trials != 5 {
		t.Errorf("%d trials, want 5", got.Trials)
	}

	selector := "      nodeSelector: {disktype: hdd}\n"
	none, err := explain.FindNodesNeeded(context.Background(), s, readWorkloads(t, deployment("hdd", 2, selector), "default"), prio, template, 8)
	if err != nil {
		t.Fatal(err)
	}
	first := none.Simulation.Workloads[0].FirstPending
	if none.Needed != -1 || none.Max != 8 || first == nil || !strings.Contains(first.Unschedulable, "didn't match Pod's node affinity/selector") {
		t.Errorf("needed %d, max %d, first pending %+v; want none with the selector named", none.Needed, none.Max, first)
	}
	if _, err := explain.FindNodesNeeded(context.Background(), s, ws, prio, template, explain.MaxAddedNodes+1); err == nil {
		t.Error("a limit above the most nodes was taken")
	}
}

// TestRollback: after Mark, adding nodes and simulating (placing, and
// preempting both cluster pods and simulated ones), Rollback leaves the
// session answering as a fresh one does.
func TestRollback(t *testing.T) {
	s, prio := session(t, preemptionCluster()...)
	filler := strings.Replace(deployment("filler", 1, "      nodeName: node-a1\n"), "cpu: 100m", "cpu: 900m", 1)
	ws := readWorkloads(t, filler+"---\n"+urgent("high")+"---\n"+deployment("spread", 8, hostnameAntiAffinity), "default")
	s.Mark()
	marked, err := s.Simulate(context.Background(), ws[:2], prio)
	if err != nil {
		t.Fatal(err)
	}
	if len(marked.Workloads[1].Preemptions) != 1 {
		t.Fatalf("preemptions %+v, want the urgent pod to preempt", marked.Workloads[1].Preemptions)
	}
	if _, err := s.AddNodes(context.Background(), fixtures.Nodes()[0], 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Simulate(context.Background(), ws[2:], prio); err != nil {
		t.Fatal(err)
	}
	s.Rollback()
	if s.Nodes() != 6 {
		t.Errorf("%d nodes after rollback, want 6", s.Nodes())
	}
	// Only the first two workloads' answer does not depend on random picks.
	ws = ws[:2]
	again, err := s.Simulate(context.Background(), ws, prio)
	if err != nil {
		t.Fatal(err)
	}
	fresh, freshPrio := session(t, preemptionCluster()...)
	want, err := fresh.Simulate(context.Background(), ws, freshPrio)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(answerJSON(t, again)), string(answerJSON(t, want)); got != want {
		t.Errorf("after rollback:\n%s\nfresh session:\n%s", got, want)
	}
}
