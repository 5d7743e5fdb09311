package podaffinity_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// BenchmarkPodAffinity: two existing pods per node (1,000 on 500 nodes,
// 10,000 on 5,000), a fifth of them with anti-affinity and preferred affinity.
// Between measured cycles a pod with anti-affinity of the same app is bound
// or removed on the next node, so every cycle sees a changed snapshot.
func BenchmarkPodAffinity(b *testing.B) {
	existing := func(nodes []*v1.Node) []*v1.Pod { return plugintest.BenchPods(2*len(nodes), 100, nodes, true) }
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app-7"}}
	pod := func() *st.PodWrapper { return st.MakePod().Namespace("default").Name("p").Label("app", "app-7") }
	churn := st.MakePod().Namespace("default").Name("churn").UID("churn").Label("app", "app-7").
		PodAntiAffinity(v1.LabelHostname, sel, st.PodAntiAffinityWithRequiredReq).Obj()
	plugintest.BenchPluginCycles(b, benchImpls, []plugintest.BenchCase{
		{Name: "no-terms", Pod: pod().Obj(), Pods: existing},
		{Name: "anti-affinity-hostname", Pod: pod().PodAntiAffinity(v1.LabelHostname, sel, st.PodAntiAffinityWithRequiredReq).Obj(), Pods: existing},
		{Name: "affinity-zone", Pod: pod().PodAffinity(v1.LabelTopologyZone, sel, st.PodAffinityWithRequiredReq).Obj(), Pods: existing},
		{Name: "preferred-affinity", Pod: pod().PodAffinity(v1.LabelTopologyZone, sel, st.PodAffinityWithPreferredReq).Obj(), Pods: existing},
		{Name: "preferred-anti-affinity", Pod: pod().PodAntiAffinity(v1.LabelTopologyZone, sel, st.PodAntiAffinityWithPreferredReq).Obj(), Pods: existing},
	}, churn)
}

// benchImpls are the in-tree plugin (the default hard weight) and ours, as
// the benchmarks build them.
var benchImpls = []plugintest.Implementation{
	{Name: "upstream", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
		pl, err := upstream.New(context.Background(), &config.InterPodAffinityArgs{HardPodAffinityWeight: 1}, h, plugintest.InTreeFeatures())
		if err != nil {
			tb.Fatal(err)
		}
		return pl
	}},
	{Name: "ours", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
		pl, err := podaffinity.NewWithArgs(h, podaffinity.Args{})
		if err != nil {
			tb.Fatal(err)
		}
		return pl
	}},
}
