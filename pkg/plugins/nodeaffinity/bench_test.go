package nodeaffinity_test

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
)

func BenchmarkNodeAffinity(b *testing.B) {
	requiredPod := st.MakePod().Name("p").Obj()
	requiredPod.Spec.Affinity = required(exprs(
		req(v1.LabelTopologyZone, v1.NodeSelectorOpIn, "zone-1", "zone-2", "zone-3"),
		req("disk", v1.NodeSelectorOpNotIn, "hdd"),
	))
	preferredPod := st.MakePod().Name("p").Obj()
	preferredPod.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
		{Weight: 50, Preference: exprs(req(v1.LabelTopologyZone, v1.NodeSelectorOpIn, "zone-1"))},
		{Weight: 20, Preference: exprs(req("disk", v1.NodeSelectorOpIn, "ssd", "nvme"))},
	}}}
	plugintest.BenchPlugin(b, []plugintest.Implementation{
		plugintest.InTreeNodeAffinity,
		{Name: "ours", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := nodeaffinity.NewWithArgs(nodeaffinity.Args{})
			return pl
		}},
	}, []plugintest.BenchCase{
		{Name: "required", Pod: requiredPod},
		{Name: "preferred", Pod: preferredPod},
	})
}
