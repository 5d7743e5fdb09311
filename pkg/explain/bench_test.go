package explain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

const benchNodes, benchPods = 5000, 10000

// benchCluster is 5,000 nodes in 50 zones holding 10,000 pods, a quarter of
// them with required hostname anti-affinity.
func benchCluster() []k8sruntime.Object {
	objs := make([]k8sruntime.Object, 0, benchNodes+benchPods)
	for i := range benchNodes {
		zone := fmt.Sprintf("zone-%d", i%50)
		objs = append(objs, st.MakeNode().Name(fmt.Sprintf("node-%d", i)).
			Label(v1.LabelHostname, fmt.Sprintf("node-%d", i)).Label(v1.LabelTopologyZone, zone).
			Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "32", v1.ResourceMemory: "64Gi", v1.ResourcePods: "110"}).Obj())
	}
	for i := range benchPods {
		p := st.MakePod().Namespace("default").Name(fmt.Sprintf("pod-%d", i)).UID(fmt.Sprintf("uid-%d", i)).
			Label("app", fmt.Sprintf("app-%d", i%20)).SchedulerName(fixtures.SchedulerName).
			Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"}).Node(fmt.Sprintf("node-%d", i%benchNodes))
		if i%4 == 0 {
			p = p.PodAntiAffinityIn("app", v1.LabelHostname, []string{fmt.Sprintf("app-%d", i%20)}, st.PodAntiAffinityWithRequiredReq)
		}
		objs = append(objs, p.Obj())
	}
	return objs
}

// BenchmarkExplain times one explain of a pod with hostname anti-affinity
// and preferred zone affinity on 5,000 nodes holding 10,000 pods: cache
// fill from the informers, snapshot, all filters on all nodes, all scores.
// The API server's own listing time is not part of it (a fake clientset).
func BenchmarkExplain(b *testing.B) {
	pod := st.MakePod().Namespace("default").Name("incoming").UID("incoming").Label("app", "app-3").
		SchedulerName(fixtures.SchedulerName).Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"}).
		PodAntiAffinityIn("app", v1.LabelHostname, []string{"app-3"}, st.PodAntiAffinityWithRequiredReq).
		PodAffinityIn("app", v1.LabelTopologyZone, []string{"app-7"}, st.PodAffinityWithPreferredReq).Obj()
	cs := fake.NewClientset(benchCluster()...)
	o := testOptions(b, cs)
	b.ResetTimer()
	for range b.N {
		e, err := explain.Explain(context.Background(), o, pod)
		if err != nil {
			b.Fatal(err)
		}
		if e.Nodes != benchNodes || len(e.Feasible) == 0 {
			b.Fatalf("explained over %d nodes with %d feasible", e.Nodes, len(e.Feasible))
		}
	}
}

// simulated is 1,000 replicas that repel each other by hostname and prefer
// the zones of app-7's pods.
const simulated = `apiVersion: apps/v1
kind: Deployment
metadata: {name: new, namespace: default}
spec:
  replicas: 1000
  selector: {matchLabels: {app: new}}
  template:
    metadata: {labels: {app: new}}
    spec:
      schedulerName: placement-scheduler
      containers: [{name: app, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: 100m}}}]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: new}}, topologyKey: kubernetes.io/hostname}
        podAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 50
            podAffinityTerm: {labelSelector: {matchLabels: {app: app-7}}, topologyKey: topology.kubernetes.io/zone}
`

// defaultProfile is kube-scheduler's own default profile, in-tree plugins
// only.
const defaultProfile = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
profiles:
- schedulerName: default-scheduler
`

// liveHeap is the heap after a collection: what the session (cache,
// snapshot, informers' stores, the placed replicas) and the benchmark's
// cluster objects hold.
func liveHeap() uint64 {
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	return mem.HeapAlloc
}

// BenchmarkSimulate places 1,000 replicas with hostname anti-affinity among
// themselves and a preferred zone affinity on 5,000 nodes holding 10,000
// pods, with our profile and with the in-tree default profile, in the same
// run. Listing the cluster and building the session are outside the timer:
// ms/replica is the placing alone; allocations are the placing's; MiB-live
// is the heap in use after placing, the session still held.
func BenchmarkSimulate(b *testing.B) {
	file := filepath.Join(b.TempDir(), "new.yaml")
	if err := os.WriteFile(file, []byte(simulated), 0o600); err != nil {
		b.Fatal(err)
	}
	ws, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: "default", Replicas: -1})
	if err != nil {
		b.Fatal(err)
	}
	inTree, err := explain.ParseConfig([]byte(defaultProfile))
	if err != nil {
		b.Fatal(err)
	}
	objs := benchCluster()
	for _, profile := range []string{"placement", "default"} {
		b.Run(profile, func(b *testing.B) {
			b.ReportAllocs()
			var placing time.Duration
			var live uint64
			for range b.N {
				b.StopTimer()
				o := testOptions(b, fake.NewClientset(objs...))
				if profile == "default" {
					o.Config, o.Profile = inTree, "default-scheduler"
				}
				s, err := explain.Open(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				prio, err := explain.ListPriorities(context.Background(), fake.NewClientset())
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				start := time.Now()
				sim, err := s.Simulate(context.Background(), ws, prio)
				placing += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if w := sim.Workloads[0]; w.Placed != 1000 || len(w.ByNode) != 1000 {
					b.Fatalf("placed %d on %d nodes, want 1000 on 1000", w.Placed, len(w.ByNode))
				}
				b.StopTimer()
				live = max(live, liveHeap())
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(placing.Microseconds())/1000/float64(b.N*1000), "ms/replica")
			b.ReportMetric(float64(live)/(1<<20), "MiB-live")
		})
	}
}

// BenchmarkDrift times drift over the bench cluster, cache fill included.
// "healthy": the 5,000 pods of the odd apps, which carry no anti-affinity,
// judged by each placement plugin on their own node, none drifted. "all":
// every pod; the anti-affinity pods share their node with a pod of their own
// app (pod i and i+5,000), so 2,500 have drifted and each is also placed
// afresh over all nodes, as explain would.
func BenchmarkDrift(b *testing.B) {
	odd, err := labels.Parse("app in (app-1,app-3,app-5,app-7,app-9,app-11,app-13,app-15,app-17,app-19)")
	if err != nil {
		b.Fatal(err)
	}
	cs := fake.NewClientset(benchCluster()...)
	o := testOptions(b, cs)
	o.Drift = true
	for _, bc := range []struct {
		name             string
		selector         labels.Selector
		checked, drifted int
	}{
		{"healthy", odd, benchPods / 2, 0},
		{"all", nil, benchPods, benchPods / 4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				s, err := explain.Open(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				d, err := s.Drift(context.Background(), explain.DriftOptions{Selector: bc.selector})
				s.Close()
				if err != nil {
					b.Fatal(err)
				}
				if d.Checked != bc.checked || len(d.Pods) != bc.drifted {
					b.Fatalf("judged %d pods, %d drifted; want %d and %d", d.Checked, len(d.Pods), bc.checked, bc.drifted)
				}
			}
		})
	}
}

// BenchmarkDriftDense times drift alone (the session open) over 1,000
// nodes holding 30 pods each, shaped as in test/scale: each app's 30
// replicas on distinct nodes, a quarter of the apps with required hostname
// anti-affinity. None has drifted.
func BenchmarkDriftDense(b *testing.B) {
	const nodes, per = 1000, 30
	objs := []k8sruntime.Object{}
	for i := range nodes {
		objs = append(objs, st.MakeNode().Name(fmt.Sprintf("node-%d", i)).
			Label(v1.LabelHostname, fmt.Sprintf("node-%d", i)).Label(v1.LabelTopologyZone, fmt.Sprintf("zone-%d", i%50)).
			Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "32", v1.ResourceMemory: "64Gi", v1.ResourcePods: "110"}).Obj())
	}
	for k := range nodes * per {
		app, replica := k%nodes, k/nodes
		p := st.MakePod().Namespace("default").Name(fmt.Sprintf("app-%d-%d", app, replica)).UID(fmt.Sprintf("uid-%d", k)).
			Label("app", fmt.Sprintf("app-%d", app)).SchedulerName(fixtures.SchedulerName).Phase(v1.PodRunning).
			Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"}).Node(fmt.Sprintf("node-%d", (app+replica*167)%nodes))
		if app%4 == 0 {
			p = p.PodAntiAffinityIn("app", v1.LabelHostname, []string{fmt.Sprintf("app-%d", app)}, st.PodAntiAffinityWithRequiredReq)
		}
		objs = append(objs, p.Obj())
	}
	o := testOptions(b, fake.NewClientset(objs...))
	o.Drift = true
	s, err := explain.Open(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for range b.N {
		d, err := s.Drift(context.Background(), explain.DriftOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if d.Checked != nodes*per {
			b.Fatal(d.Checked)
		}
	}
}
