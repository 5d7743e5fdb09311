package nodeselector_test

import (
	"context"
	"fmt"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

// TestDifferentialAgainstInTree: for pods whose only node rule is
// spec.nodeSelector, PlacementNodeSelector alone gives the in-tree
// NodeAffinity plugin's PreFilter outcome and per-node code and reason.
// (pkg/plugins/nodeaffinity checks the two of ours together, in profile
// order, against the in-tree plugin for pods with both rules.)
func TestDifferentialAgainstInTree(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	for i := 0; i < plugintest.DifferentialCases; i++ {
		nodes := g.Nodes(1 + g.Intn(8))
		cluster := plugintest.NewCluster(t, nil, nodes, nil)
		oracle := plugintest.InTreeNodeAffinity.New(t, cluster.Handle)
		ours, err := nodeselector.New(ctx, nil, cluster.Handle)
		if err != nil {
			t.Fatal(err)
		}
		pod := g.NodePod(fmt.Sprintf("p%d", i), len(nodes))
		if pod.Spec.Affinity != nil {
			pod.Spec.Affinity.NodeAffinity = nil
		}
		want, _ := plugintest.Filter(ctx, oracle.(fwk.FilterPlugin), pod, cluster.Nodes)
		got, _ := plugintest.Filter(ctx, ours.(fwk.FilterPlugin), pod, cluster.Nodes)
		if diff := plugintest.DiffVerdicts(want, got, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: pod %s\nnodes %s\n%s", i, plugintest.Dump(pod), plugintest.Dump(nodes), diff)
		}
	}
}
