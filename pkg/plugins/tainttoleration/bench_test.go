package tainttoleration_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/tainttoleration"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

func BenchmarkTaintToleration(b *testing.B) {
	tolerating := st.MakePod().Name("p").Obj()
	tolerating.Spec.Tolerations = []v1.Toleration{
		{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule},
		{Key: "other", Operator: v1.TolerationOpExists},
	}
	plugintest.BenchPlugin(b, []plugintest.Implementation{
		{Name: "upstream", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := upstream.New(context.Background(), nil, h, plugintest.InTreeFeatures())
			return pl
		}},
		{Name: "ours", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
			pl, _ := tainttoleration.New(context.Background(), nil, h)
			return pl
		}},
	}, []plugintest.BenchCase{
		{Name: "no-tolerations", Pod: st.MakePod().Name("p").Obj()},
		{Name: "tolerations", Pod: tolerating},
	})
}
