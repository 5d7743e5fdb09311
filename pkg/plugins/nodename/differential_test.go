package nodename_test

import (
	"context"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodename"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
)

// TestDifferentialAgainstInTree: same PreFilter node set and Filter verdicts
// as the in-tree NodeName plugin on random clusters.
func TestDifferentialAgainstInTree(t *testing.T) {
	plugintest.Differential(t, func(h fwk.Handle) (fwk.Plugin, fwk.Plugin) {
		oracle, _ := upstream.New(context.Background(), nil, h, plugintest.InTreeFeatures())
		ours, _ := nodename.New(context.Background(), nil, h)
		return oracle, ours
	})
}
