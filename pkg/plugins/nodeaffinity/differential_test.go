package nodeaffinity_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

const differentialCases = 10000

// TestDifferentialAgainstInTree checks PlacementNodeAffinity followed by
// PlacementNodeSelector (their order in our profile) against the in-tree
// NodeAffinity plugin, which does both jobs: same PreFilter outcome, same
// per-node code and reason, same normalized scores.
func TestDifferentialAgainstInTree(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	fts := plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
	for i := 0; i < differentialCases; i++ {
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
		if diff := compareVerdicts(want, got, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: pod %s\nadded %s\nnodes %s\n%s", i, dump(pod), dump(added), dump(nodes), diff)
		}

		wantScores, wantStatus := plugintest.Score(ctx, oracle.(fwk.ScorePlugin), pod, cluster.Nodes)
		gotScores, gotStatus := plugintest.Score(ctx, ours, pod, cluster.Nodes)
		if plugintest.Describe(wantStatus) != plugintest.Describe(gotStatus) || fmt.Sprint(wantScores) != fmt.Sprint(gotScores) {
			t.Fatalf("case %d: pod %s\nadded %s\nnodes %s\nscores: in-tree %v %s, ours %v %s", i, dump(pod), dump(added), dump(nodes),
				wantScores, plugintest.Describe(wantStatus), gotScores, plugintest.Describe(gotStatus))
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
		var st *fwk.Status
		if len(a.Nodes) > 0 {
			st = a.Nodes[i]
		}
		if st.IsSuccess() && len(s.Nodes) > 0 {
			st = s.Nodes[i]
		}
		out.Nodes = append(out.Nodes, st)
	}
	return out
}

// compareVerdicts compares what the framework would act on: a PreFilter
// rejection, the PreFilter node set, and each node's Filter status (a PreFilter
// Skip means every node passes).
func compareVerdicts(want, got plugintest.Verdict, nodes []fwk.NodeInfo) string {
	if rejected(want.PreFilter) || rejected(got.PreFilter) {
		if plugintest.Describe(want.PreFilter) != plugintest.Describe(got.PreFilter) {
			return fmt.Sprintf("PreFilter: in-tree %s, ours %s", plugintest.Describe(want.PreFilter), plugintest.Describe(got.PreFilter))
		}
		return ""
	}
	if fmt.Sprint(names(want.Result)) != fmt.Sprint(names(got.Result)) {
		return fmt.Sprintf("PreFilterResult: in-tree %v, ours %v", names(want.Result), names(got.Result))
	}
	for i, n := range nodes {
		w, g := statusAt(want, i), statusAt(got, i)
		if plugintest.Describe(w) != plugintest.Describe(g) {
			return fmt.Sprintf("node %s: in-tree %s, ours %s", n.Node().Name, plugintest.Describe(w), plugintest.Describe(g))
		}
	}
	return ""
}

func rejected(s *fwk.Status) bool { return !s.IsSuccess() && !s.IsSkip() }

func statusAt(v plugintest.Verdict, i int) *fwk.Status {
	if len(v.Nodes) == 0 {
		return nil
	}
	return v.Nodes[i]
}

func names(r *fwk.PreFilterResult) []string {
	if r == nil || r.AllNodes() {
		return nil
	}
	return sortedKeys(r.NodeNames)
}
