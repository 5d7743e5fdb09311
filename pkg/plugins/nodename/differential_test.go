package nodename_test

import (
	"context"
	"fmt"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodename"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
)

// TestDifferentialAgainstInTree: same PreFilter node set and Filter verdicts.
func TestDifferentialAgainstInTree(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	fts := plugintest.InTreeFeatures()
	for i := 0; i < 10000; i++ {
		nodes := g.Nodes(1 + g.Intn(8))
		cluster := plugintest.NewCluster(t, nil, nodes, nil)
		oracle, _ := upstream.New(ctx, nil, cluster.Handle, fts)
		ours, _ := nodename.New(ctx, nil, cluster.Handle)
		pod := g.NodePod(fmt.Sprintf("p%d", i), len(nodes))

		want, _ := plugintest.Filter(ctx, oracle.(fwk.FilterPlugin), pod, cluster.Nodes)
		got, _ := plugintest.Filter(ctx, ours.(fwk.FilterPlugin), pod, cluster.Nodes)
		if diff := plugintest.DiffVerdicts(want, got, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: nodeName %q: %s", i, pod.Spec.NodeName, diff)
		}
	}
}
