package integration

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/sandbox"
)

const ourScheduler = fixtures.SchedulerName

// TestSandboxExamples runs `make run`'s code end to end and checks that every
// example pod lands where its constraints send it.
func TestSandboxExamples(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	placements, err := sandbox.Run(ctx, &out, sandbox.Options{})
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, out.String())
	}
	t.Logf("sandbox output:\n%s", out.String())

	got := map[string]sandbox.Placement{}
	for _, p := range placements {
		got[p.Pod] = p
	}
	wantNode := map[string]string{
		"pinned":      "node-a2",
		"ssd-only":    "node-b2",
		"zone-c-only": "node-c1",
		"gpu-job":     "node-c2",
	}
	for pod, node := range wantNode {
		if got[pod].Node != node {
			t.Errorf("pod %s on %q, want %q", pod, got[pod].Node, node)
		}
	}
	wantZone := map[string]string{"prefers-zone-a": "zone-a", "cache": "zone-b", "web": "zone-b"}
	for pod, zone := range wantZone {
		if got[pod].Zone != zone {
			t.Errorf("pod %s in zone %q (node %q), want %q", pod, got[pod].Zone, got[pod].Node, zone)
		}
	}
	zones := map[string]bool{}
	for _, pod := range []string{"spread-1", "spread-2", "spread-3"} {
		if got[pod].Pending() {
			t.Errorf("pod %s is pending: %s", pod, got[pod].Message)
		}
		zones[got[pod].Zone] = true
	}
	if len(zones) != 3 {
		t.Errorf("anti-affine replicas share zones: %v", zones)
	}
	pending := got["gpu-job-untolerated"]
	if !pending.Pending() {
		t.Fatalf("gpu-job-untolerated was bound to %s, want pending", pending.Node)
	}
	for _, want := range []string{"0/6 nodes are available", "1 node(s) had untolerated taint(s)", "5 node(s) didn't match Pod's node affinity/selector"} {
		if !strings.Contains(pending.Message, want) {
			t.Errorf("FailedScheduling message %q lacks %q", pending.Message, want)
		}
	}
}

// TestSchedulesOnlyItsOwnPods: a pod naming the default scheduler is left
// alone (nothing else schedules here, so it must stay unbound and untouched).
func TestSchedulesOnlyItsOwnPods(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(localscheduler.Options{})
	e.createNodes(fixtures.Nodes()...)

	theirs := e.createPod(pausePod("theirs").SchedulerName(v1.DefaultSchedulerName).Obj())
	ours := e.createPod(pausePod("ours").Obj())
	e.waitBound(ours, 30*time.Second)
	// Ours is bound, so the scheduler is running; give it a moment more to
	// make a mistake with the other pod.
	time.Sleep(2 * time.Second)
	got := e.getPod(theirs)
	if got.Spec.NodeName != "" {
		t.Errorf("pod for %s was bound to %s by placement-scheduler", v1.DefaultSchedulerName, got.Spec.NodeName)
	}
	if len(got.Status.Conditions) != 0 {
		t.Errorf("pod for %s has conditions %v; placement-scheduler must not touch it", v1.DefaultSchedulerName, got.Status.Conditions)
	}
}

// TestFailedSchedulingAndRequeue: a pod that fits nowhere gets a
// FailedScheduling event naming the reasons, and is bound within seconds
// (not the 5-minute flush) once a node change lets it fit.
func TestFailedSchedulingAndRequeue(t *testing.T) {
	e := newEnv(t)
	// Nodes first, so the scheduler's synced cache holds all six when it
	// writes the message checked below.
	e.createNodes(fixtures.Nodes()...)
	e.startScheduler(localscheduler.Options{})

	t.Run("missing label", func(t *testing.T) {
		pod := e.createPod(pausePod("wants-fpga").NodeSelector(map[string]string{"fpga": "true"}).Obj())
		msg := e.waitFailedScheduling(pod, 30*time.Second)
		const want = "0/6 nodes are available: 1 node(s) had untolerated taint(s), 5 node(s) didn't match Pod's node affinity/selector."
		if !strings.HasPrefix(msg, want) {
			t.Errorf("FailedScheduling message:\n got %q\nwant prefix %q", msg, want)
		}
		e.patchNode("node-a1", func(n *v1.Node) { n.Labels["fpga"] = "true" })
		if node := e.waitBound(pod, 10*time.Second); node != "node-a1" {
			t.Errorf("bound to %s, want node-a1", node)
		}
	})

	t.Run("taint removed", func(t *testing.T) {
		pod := e.createPod(pausePod("wants-gpu").NodeSelector(map[string]string{fixtures.GPULabel: "true"}).Obj())
		msg := e.waitFailedScheduling(pod, 30*time.Second)
		if !strings.Contains(msg, "1 node(s) had untolerated taint(s)") {
			t.Errorf("FailedScheduling message %q does not name the taint", msg)
		}
		e.patchNode("node-c2", func(n *v1.Node) { n.Spec.Taints = nil })
		if node := e.waitBound(pod, 10*time.Second); node != "node-c2" {
			t.Errorf("bound to %s, want node-c2", node)
		}
	})
}
