package nodename_test

import (
	"context"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodename"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
)

func BenchmarkNodeName(b *testing.B) {
	plugintest.BenchPlugin(b, []plugintest.Implementation{
		{Name: "upstream", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := upstream.New(context.Background(), nil, h, plugintest.InTreeFeatures())
			return pl
		}},
		{Name: "ours", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := nodename.New(context.Background(), nil, h)
			return pl
		}},
	}, []plugintest.BenchCase{
		{Name: "unpinned", Pod: st.MakePod().Name("p").Obj()},
		{Name: "pinned", Pod: st.MakePod().Name("p").Node("node-00042").Obj()},
	})
}
