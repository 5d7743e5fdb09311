package nodeaffinity_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

// TestDifferentialAgainstInTree checks PlacementNodeAffinity followed by
// PlacementNodeSelector (their order in our profile) against the in-tree
// NodeAffinity plugin, which does both jobs: same PreFilter outcome, same
// per-node code and reason, same normalized scores.
func TestDifferentialAgainstInTree(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	fts := plugintest.InTreeFeatures()
	for i := 0; i < plugintest.DifferentialCases; i++ {
		nodes := g.Nodes(1 + g.Intn(8))
		cluster := plugintest.NewCluster(t, nil, nodes, nil)
		var added *v1.NodeAffinity
		if g.Chance(0.2) {
			added = g.NodeAffinity(len(nodes))
			// MatchFields are not allowed in addedAffinity's required terms.
			if r := added.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
				for j := range r.NodeSelectorTerms {
					r.NodeSelectorTerms[j].MatchFields = nil
				}
			}
		}
		oracle, err := upstream.New(ctx, &config.NodeAffinityArgs{AddedAffinity: added}, cluster.Handle, fts)
		ours, ourErr := nodeaffinity.NewWithArgs(nodeaffinity.Args{AddedAffinity: added})
		if (err == nil) != (ourErr == nil) {
			t.Fatalf("case %d: args %+v: in-tree error %v, ours %v", i, added, err, ourErr)
		}
		if err != nil {
			continue
		}
		selector, _ := nodeselector.New(ctx, nil, cluster.Handle)
		pod := g.NodePod(fmt.Sprintf("p%d", i), len(nodes))

		want, _ := plugintest.Filter(ctx, oracle.(fwk.FilterPlugin), pod, cluster.Nodes)
		got := combine(ctx, ours, selector.(fwk.FilterPlugin), pod, cluster.Nodes)
		if diff := plugintest.DiffVerdicts(want, got, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: pod %s\nadded %s\nnodes %s\n%s", i, plugintest.Dump(pod), plugintest.Dump(added), plugintest.Dump(nodes), diff)
		}

		wantScores, wantStatus := plugintest.Score(ctx, oracle.(fwk.ScorePlugin), pod, cluster.Nodes)
		gotScores, gotStatus := plugintest.Score(ctx, ours, pod, cluster.Nodes)
		if diff := plugintest.DiffScores(wantScores, wantStatus, gotScores, gotStatus); diff != "" {
			t.Fatalf("case %d: pod %s\nadded %s\nnodes %s\n%s", i, plugintest.Dump(pod), plugintest.Dump(added), plugintest.Dump(nodes), diff)
		}
	}
}

// combine runs our two plugins as the framework would in one cycle: both
// PreFilters, then per node the first Filter that fails.
func combine(ctx context.Context, affinity, selector fwk.FilterPlugin, pod *v1.Pod, nodes []fwk.NodeInfo) plugintest.Verdict {
	a, _ := plugintest.Filter(ctx, affinity, pod, nodes)
	if !a.PreFilter.IsSuccess() && !a.PreFilter.IsSkip() {
		return a
	}
	s, _ := plugintest.Filter(ctx, selector, pod, nodes)
	out := plugintest.Verdict{Result: a.Result}
	for i := range nodes {
		st := a.At(i)
		if st.IsSuccess() {
			st = s.At(i)
		}
		out.Nodes = append(out.Nodes, st)
	}
	return out
}
