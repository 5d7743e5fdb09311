package nodeselector_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

// BenchmarkNodeSelector compares our selector plugin with the in-tree
// NodeAffinity plugin, which is what checks nodeSelector upstream.
func BenchmarkNodeSelector(b *testing.B) {
	pod := st.MakePod().Name("p").NodeSelector(map[string]string{v1.LabelTopologyZone: "zone-3", "disk": "ssd"}).Obj()
	plugintest.BenchPlugin(b, []plugintest.Implementation{
		plugintest.InTreeNodeAffinity,
		{Name: "ours", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := nodeselector.New(context.Background(), nil, h)
			return pl
		}},
	}, []plugintest.BenchCase{{Name: "selector", Pod: pod}})
}
