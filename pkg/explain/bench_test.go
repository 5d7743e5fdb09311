package explain_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// BenchmarkExplain times one explain of a pod with hostname anti-affinity
// and preferred zone affinity on 5,000 nodes holding 10,000 pods: cache
// fill from the informers, snapshot, all filters on all nodes, all scores.
// The API server's own listing time is not part of it (a fake clientset).
func BenchmarkExplain(b *testing.B) {
	const nodes, pods = 5000, 10000
	objs := make([]runtime.Object, 0, nodes+pods)
	for i := range nodes {
		zone := fmt.Sprintf("zone-%d", i%50)
		objs = append(objs, st.MakeNode().Name(fmt.Sprintf("node-%d", i)).
			Label(v1.LabelHostname, fmt.Sprintf("node-%d", i)).Label(v1.LabelTopologyZone, zone).
			Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "32", v1.ResourceMemory: "64Gi", v1.ResourcePods: "110"}).Obj())
	}
	for i := range pods {
		p := st.MakePod().Namespace("default").Name(fmt.Sprintf("pod-%d", i)).UID(fmt.Sprintf("uid-%d", i)).
			Label("app", fmt.Sprintf("app-%d", i%20)).SchedulerName(fixtures.SchedulerName).
			Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"}).Node(fmt.Sprintf("node-%d", i%nodes))
		if i%4 == 0 {
			p = p.PodAntiAffinityIn("app", v1.LabelHostname, []string{fmt.Sprintf("app-%d", i%20)}, st.PodAntiAffinityWithRequiredReq)
		}
		objs = append(objs, p.Obj())
	}
	pod := st.MakePod().Namespace("default").Name("incoming").UID("incoming").Label("app", "app-3").
		SchedulerName(fixtures.SchedulerName).Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"}).
		PodAntiAffinityIn("app", v1.LabelHostname, []string{"app-3"}, st.PodAntiAffinityWithRequiredReq).
		PodAffinityIn("app", v1.LabelTopologyZone, []string{"app-7"}, st.PodAffinityWithPreferredReq).Obj()
	cs := fake.NewClientset(objs...)
	o := testOptions(b, cs)
	b.ResetTimer()
	for range b.N {
		e, err := explain.Explain(context.Background(), o, pod)
		if err != nil {
			b.Fatal(err)
		}
		if e.Nodes != nodes || len(e.Feasible) == 0 {
			b.Fatalf("explained over %d nodes with %d feasible", e.Nodes, len(e.Feasible))
		}
	}
}
