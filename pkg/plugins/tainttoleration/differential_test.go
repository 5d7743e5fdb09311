package tainttoleration_test

import (
	"context"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/tainttoleration"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

// TestDifferentialAgainstInTree: same Filter code and reason on every node and
// same normalized scores as the in-tree TaintToleration plugin, on random
// taints and tolerations.
func TestDifferentialAgainstInTree(t *testing.T) {
	plugintest.Differential(t, func(h fwk.Handle) (fwk.Plugin, fwk.Plugin) {
		oracle, _ := upstream.New(context.Background(), nil, h, plugintest.InTreeFeatures())
		ours, _ := tainttoleration.New(context.Background(), nil, h)
		return oracle, ours
	})
}
