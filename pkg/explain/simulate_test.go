package explain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// deployment is a Deployment of our profile requesting 100m per replica.
func deployment(name string, replicas int, spec string) string {
	return fixtures.DeploymentYAML(name, replicas, "100m", spec)
}

const hostnameAntiAffinity = `      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: spread}}, topologyKey: kubernetes.io/hostname}
`

func readWorkloads(t *testing.T, manifest string, namespace string) []*workload.Workload {
	t.Helper()
	file := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	ws, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: namespace, Replicas: -1})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// session opens a session over the demo nodes and objs.
func session(t *testing.T, objs ...runtime.Object) (*explain.Session, *explain.Priorities) {
	t.Helper()
	return sessionWith(t, explain.Options{}, objs...)
}

// sessionWith is session with o's NoPreemption.
func sessionWith(t *testing.T, o explain.Options, objs ...runtime.Object) (*explain.Session, *explain.Priorities) {
	t.Helper()
	for _, n := range fixtures.Nodes() {
		objs = append(objs, n)
	}
	return openWith(t, o, objs...)
}

// open opens a session over objs and the namespace default.
func open(t *testing.T, objs ...runtime.Object) (*explain.Session, *explain.Priorities) {
	t.Helper()
	return openWith(t, explain.Options{}, objs...)
}

func openWith(t *testing.T, o explain.Options, objs ...runtime.Object) (*explain.Session, *explain.Priorities) {
	t.Helper()
	objs = append(objs, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	cs := fake.NewClientset(objs...)
	opts := testOptions(t, cs)
	opts.NoPreemption = o.NoPreemption
	s, err := explain.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	prio, err := explain.ListPriorities(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	return s, prio
}

func counts(c []explain.Count) map[string]int {
	m := map[string]int{}
	for _, x := range c {
		m[x.Name] = x.Pods
	}
	return m
}

func TestSimulateHostnameAntiAffinity(t *testing.T) {
	s, prio := session(t)
	sim, err := s.Simulate(context.Background(), readWorkloads(t, deployment("spread", 8, hostnameAntiAffinity), "default"), prio)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Workloads) != 1 || sim.Nodes != 6 {
		t.Fatalf("got %+v", sim)
	}
	w := sim.Workloads[0]
	// One per node, except the tainted GPU node.
	if w.Placed != 5 || w.Pending != 3 || w.Profile != fixtures.SchedulerName {
		t.Errorf("placed %d, pending %d, profile %s; want 5, 3, %s", w.Placed, w.Pending, w.Profile, fixtures.SchedulerName)
	}
	if got := counts(w.ByZone); got["zone-a"] != 2 || got["zone-b"] != 2 || got["zone-c"] != 1 {
		t.Errorf("by zone %v", got)
	}
	for _, n := range w.ByNode {
		if n.Pods != 1 || n.Name == "node-c2" {
			t.Errorf("node %s got %d", n.Name, n.Pods)
		}
	}
	p := w.FirstPending
	if p == nil || !strings.HasSuffix(p.Pod, "-5") || !strings.HasPrefix(p.Unschedulable, "0/6 nodes are available") {
		t.Fatalf("first pending %+v, want replica 5 with the scheduler's message", p)
	}
	byPlugin := map[string]int{}
	for _, g := range p.Rejected {
		byPlugin[g.Plugin] += len(g.Nodes)
	}
	if byPlugin["PlacementPodAffinity"] != 5 || byPlugin["PlacementTaintToleration"] != 1 {
		t.Errorf("rejections %v, want PlacementPodAffinity on 5 nodes and PlacementTaintToleration on 1", byPlugin)
	}
	if len(p.PreemptionCandidates) != 0 {
		t.Errorf("preemption candidates %v among pods of equal priority", p.PreemptionCandidates)
	}
}

// TestSimulateSeesEarlierWorkloads: workloads are placed in order over one
// cluster, so a second one meets the first one's pods: its replicas avoid
// the first's (app=spread) but not each other.
func TestSimulateSeesEarlierWorkloads(t *testing.T) {
	s, prio := session(t)
	first := deployment("spread", 3, hostnameAntiAffinity)
	second := deployment("spread-more", 3, hostnameAntiAffinity)
	sim, err := s.Simulate(context.Background(), readWorkloads(t, first+"---\n"+second, "default"), prio)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sim.Workloads[0], sim.Workloads[1]
	if a.Placed != 3 || b.Placed != 3 || len(b.ByNode) > 2 {
		t.Errorf("first placed %d, second placed %d on %v; want 3, and 3 on the two nodes left", a.Placed, b.Placed, b.ByNode)
	}
	for _, n := range b.ByNode {
		if counts(a.ByNode)[n.Name] != 0 {
			t.Errorf("second workload shares node %s with the first", n.Name)
		}
	}
}

func TestCapacity(t *testing.T) {
	// 1500m each: two per 4-CPU node, five schedulable nodes.
	manifest := strings.Replace(deployment("big", 1, ""), "cpu: 100m", "cpu: 1500m", 1)
	tests := []struct {
		name          string
		max, wantFits int
		wantLimited   bool
	}{
		{"until full", 1000, 10, false},
		{"stopped at max", 4, 4, true},
		{"max zero", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, prio := session(t)
			r, err := s.Capacity(context.Background(), readWorkloads(t, manifest, "default")[0], tc.max, prio)
			if err != nil {
				t.Fatal(err)
			}
			if r.Fits != tc.wantFits || r.Limited != tc.wantLimited || r.Kind != "Capacity" {
				t.Fatalf("fits %d limited %v kind %s, want %d %v Capacity", r.Fits, r.Limited, r.Kind, tc.wantFits, tc.wantLimited)
			}
			if tc.wantLimited {
				if r.Next != nil {
					t.Errorf("limited, yet a reason for the next: %+v", r.Next)
				}
				return
			}
			for _, n := range r.ByNode {
				if n.Pods != 2 {
					t.Errorf("%s holds %d copies, want 2", n.Name, n.Pods)
				}
			}
			if r.Next == nil || len(r.Next.Rejected) == 0 || r.Next.Rejected[0].Plugin != "NodeResourcesFit" ||
				r.Next.Rejected[0].Reasons[0] != "Insufficient cpu" || len(r.Next.Rejected[0].Nodes) != 5 {
				t.Errorf("next %+v, want NodeResourcesFit: Insufficient cpu on 5 nodes", r.Next)
			}
		})
	}
}

func lowPriorityHog(node string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hog-" + node, Namespace: "default", UID: types.UID("hog-" + node)},
		Spec: v1.PodSpec{
			NodeName: node, SchedulerName: fixtures.SchedulerName, Priority: ptr.To[int32](0),
			Containers: []v1.Container{{Name: "c", Image: "i", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("3")},
			}}},
		},
	}
}

// preemptionCluster: a 3-CPU hog of priority 0 on each node; on every node
// but node-a1 a second pod with the priority of the "high" classes, which
// preemption by them cannot evict, keeps the node from fitting a 3.8-CPU pod.
func preemptionCluster() []runtime.Object {
	high := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
	never := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high-never"}, Value: 1000, PreemptionPolicy: ptr.To(v1.PreemptNever)}
	objs := []runtime.Object{high, never}
	for _, n := range []string{"node-a1", "node-a2", "node-b1", "node-b2", "node-c1"} {
		objs = append(objs, lowPriorityHog(n))
	}
	for _, n := range []string{"node-a2", "node-b1", "node-b2", "node-c1"} {
		p := lowPriorityHog(n)
		p.Name, p.UID, p.Spec.Priority = "kept-"+n, types.UID("kept-"+n), ptr.To[int32](1000)
		p.Spec.Containers[0].Resources.Requests[v1.ResourceCPU] = resource.MustParse("500m")
		objs = append(objs, p)
	}
	return objs
}

// urgent is a one-replica Deployment of a 3.8-CPU pod of class.
func urgent(class string) string {
	manifest := strings.Replace(deployment("urgent", 1, ""), "cpu: 100m", "cpu: 3800m", 1)
	if class != "" {
		manifest += "      priorityClassName: " + class + "\n"
	}
	return manifest
}

// TestPreemptionCandidates: without preemption, a replica that fits nowhere
// but would fit once lower-priority pods were evicted says where; with
// preemptionPolicy Never, or without a higher priority, it does not.
func TestPreemptionCandidates(t *testing.T) {
	tests := []struct {
		class string
		want  []string
	}{
		{"high", []string{"node-a1"}},
		{"high-never", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run("class "+tc.class, func(t *testing.T) {
			s, prio := sessionWith(t, explain.Options{NoPreemption: true}, preemptionCluster()...)
			sim, err := s.Simulate(context.Background(), readWorkloads(t, urgent(tc.class), "default"), prio)
			if err != nil {
				t.Fatal(err)
			}
			p := sim.Workloads[0].FirstPending
			if p == nil {
				t.Fatalf("placed %d, want it pending", sim.Workloads[0].Placed)
			}
			if fmt.Sprint(p.PreemptionCandidates) != fmt.Sprint(tc.want) {
				t.Errorf("preemption candidates %v, want %v", p.PreemptionCandidates, tc.want)
			}
			if strings.Contains(p.Unschedulable, "preemption:") {
				t.Errorf("message %q speaks of preemption, which did not run", p.Unschedulable)
			}
		})
	}
}

// TestSimulatePreemption: a replica that fits only by preempting evicts the
// victims DefaultPreemption picks and lands where they were; one that may
// not preempt, or finds no victims, stays pending with the PostFilter
// message the scheduler adds to FailedScheduling.
func TestSimulatePreemption(t *testing.T) {
	tests := []struct {
		class   string
		victims string // namespace/name@node, or "" when pending
		message string
	}{
		{class: "high", victims: "default/hog-node-a1@node-a1"},
		{class: "high-never", message: "preemption: not eligible due to preemptionPolicy=Never."},
		{class: "", message: "preemption: 0/6 nodes are available: 1 Preemption is not helpful for scheduling, 5 No preemption victims found for incoming pod."},
	}
	for _, tc := range tests {
		t.Run("class "+tc.class, func(t *testing.T) {
			s, prio := session(t, preemptionCluster()...)
			sim, err := s.Simulate(context.Background(), readWorkloads(t, urgent(tc.class), "default"), prio)
			if err != nil {
				t.Fatal(err)
			}
			w := sim.Workloads[0]
			if tc.victims == "" {
				if w.FirstPending == nil || len(w.Preemptions) != 0 {
					t.Fatalf("placed %d, preemptions %+v; want it pending", w.Placed, w.Preemptions)
				}
				if !strings.HasSuffix(w.FirstPending.Unschedulable, " "+tc.message) {
					t.Errorf("message %q, want it to end with %q", w.FirstPending.Unschedulable, tc.message)
				}
				return
			}
			if w.Placed != 1 || len(w.Preemptions) != 1 {
				t.Fatalf("placed %d, preemptions %+v; want one placed by preempting", w.Placed, w.Preemptions)
			}
			p := w.Preemptions[0]
			var got []string
			for _, v := range p.Victims {
				got = append(got, v.Namespace+"/"+v.Name+"@"+p.Node)
			}
			if strings.Join(got, ",") != tc.victims || p.NodeName != p.Node || p.Victims[0].Simulated {
				t.Errorf("preemption %+v, want victims %s and the pod on the nominated node", p, tc.victims)
			}
		})
	}
}

// TestPreemptionOfSimulatedPods: a later workload of higher priority
// preempts replicas an earlier one placed, and the answer says so.
func TestPreemptionOfSimulatedPods(t *testing.T) {
	s, prio := session(t, preemptionCluster()...)
	filler := strings.Replace(deployment("filler", 1, "      nodeName: node-a1\n"), "cpu: 100m", "cpu: 900m", 1)
	ws := readWorkloads(t, filler+"---\n"+urgent("high"), "default")
	sim, err := s.Simulate(context.Background(), ws, prio)
	if err != nil {
		t.Fatal(err)
	}
	w := sim.Workloads[1]
	if w.Placed != 1 || len(w.Preemptions) != 1 || len(w.Preemptions[0].Victims) != 2 {
		t.Fatalf("placed %d, preemptions %+v; want the hog and the filler preempted", w.Placed, w.Preemptions)
	}
	simulated := 0
	for _, v := range w.Preemptions[0].Victims {
		if v.Simulated {
			simulated++
		}
	}
	if simulated != 1 || len(w.Notes) != 1 || !strings.Contains(w.Notes[0], "1 of the preempted pods") {
		t.Errorf("victims %+v, notes %v; want the filler marked and noted", w.Preemptions[0].Victims, w.Notes)
	}
	// node-a1 is the only node preemption can use: the answer is the same
	// whatever the random pick.
	fixtures.Golden(t, "preemption.json", answerJSON(t, sim), *update)
}

func TestSimulateErrorsAndNotes(t *testing.T) {
	s, prio := session(t)
	ws := readWorkloads(t, deployment("web", 1, "      priorityClassName: missing\n"), "default")
	if _, err := s.Simulate(context.Background(), ws, prio); err == nil || !strings.Contains(err.Error(), "spec.priorityClassName: no PriorityClass with name missing") {
		t.Errorf("err = %v, want the missing PriorityClass named", err)
	}
	ws = readWorkloads(t, strings.Replace(deployment("web", 1, ""), "placement-scheduler", "other-scheduler", 1), "default")
	if _, err := s.Simulate(context.Background(), ws, prio); err == nil || !strings.Contains(err.Error(), `no profile "other-scheduler"`) {
		t.Errorf("err = %v, want the missing profile named", err)
	}
	sim, err := s.Simulate(context.Background(), readWorkloads(t, deployment("web", 1, ""), "nowhere"), prio)
	if err != nil {
		t.Fatal(err)
	}
	if w := sim.Workloads[0]; w.Placed != 1 || len(w.Notes) != 1 || !strings.Contains(w.Notes[0], "namespace nowhere does not exist") {
		t.Errorf("placed %d, notes %v; want 1 and a note on the namespace", w.Placed, w.Notes)
	}
}

func TestPendingPods(t *testing.T) {
	cs, pods := demo(t, map[string]string{"spread-1": "node-a1", "cache": "node-b1"})
	var objs []runtime.Object
	for _, name := range []string{"gpu-job-untolerated", "web"} {
		objs = append(objs, pods[name])
	}
	for _, o := range objs {
		if err := cs.Tracker().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	s, err := explain.Open(context.Background(), testOptions(t, cs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	got, err := s.PendingPods(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pods) != 2 {
		t.Fatalf("pending %+v, want gpu-job-untolerated and web", got.Pods)
	}
	gpu, web := got.Pods[0], got.Pods[1]
	if gpu.Name != "gpu-job-untolerated" || gpu.Schedulable || gpu.Blocker == nil || gpu.Blocker.Plugin != "PlacementNodeSelector" || len(gpu.Blocker.Nodes) != 5 {
		t.Errorf("gpu-job-untolerated: %+v", gpu)
	}
	if web.Name != "web" || !web.Schedulable || len(web.Pick) == 0 {
		t.Errorf("web: %+v, want schedulable with a pick", web)
	}
	if other, _ := s.PendingPods(context.Background(), "kube-system"); len(other.Pods) != 0 {
		t.Errorf("kube-system: %+v, want none", other.Pods)
	}
}

// TestSimulationGolden pins answers whose outcome does not depend on the
// random pick among equal scores, as data (see TestExplainGolden).
func TestSimulationGolden(t *testing.T) {
	s, prio := session(t)
	sim, err := s.Simulate(context.Background(), readWorkloads(t, deployment("spread", 8, hostnameAntiAffinity), "default"), prio)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Replace(deployment("big", 1, ""), "cpu: 100m", "cpu: 1500m", 1)
	c, err := s.Capacity(context.Background(), readWorkloads(t, big, "default")[0], 1000, prio)
	if err != nil {
		t.Fatal(err)
	}
	fixtures.Golden(t, "simulate.json", answerJSON(t, sim), *update)
	fixtures.Golden(t, "capacity.json", answerJSON(t, c), *update)
}

// TestSimulateWithoutNodes: in a cluster without nodes every replica is
// pending with the scheduler's own message.
func TestSimulateWithoutNodes(t *testing.T) {
	s, prio := open(t)
	sim, err := s.Simulate(context.Background(), readWorkloads(t, deployment("web", 3, ""), "default"), prio)
	if err != nil {
		t.Fatal(err)
	}
	w := sim.Workloads[0]
	if w.Placed != 0 || w.Pending != 3 || w.FirstPending == nil || w.FirstPending.Unschedulable != "no nodes available to schedule pods" {
		t.Errorf("placed %d, pending %d, first pending %+v", w.Placed, w.Pending, w.FirstPending)
	}
}

// TestCapacityPreemption: copies of a pod count the ones that fit by
// preempting, and the next copy says why preemption does not help it.
func TestCapacityPreemption(t *testing.T) {
	s, prio := session(t, preemptionCluster()...)
	c, err := s.Capacity(context.Background(), readWorkloads(t, urgent("high"), "default")[0], 100, prio)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fits != 1 || len(c.Preemptions) != 1 || c.Preemptions[0].Node != "node-a1" || c.Next == nil {
		t.Fatalf("fits %d, preemptions %+v, next %+v; want one copy on node-a1 by preempting, then none", c.Fits, c.Preemptions, c.Next)
	}
	// node-a1 holds only the first copy now; elsewhere the hog's CPU is not
	// enough beside the kept pod.
	if want := "preemption: 0/6 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling, 4 Insufficient cpu."; !strings.HasSuffix(c.Next.Unschedulable, want) {
		t.Errorf("next: %q, want it to end with %q", c.Next.Unschedulable, want)
	}
}
