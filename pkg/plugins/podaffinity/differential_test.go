package podaffinity_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// TestDifferentialAgainstInTree runs ours and the in-tree InterPodAffinity on
// random clusters (namespaces with labels, placed pods with every kind of
// term, nodes missing topology keys): same PreFilter outcome, same Filter
// code and reason per node, before and after preemption's AddPod/RemovePod,
// and same normalized scores.
func TestDifferentialAgainstInTree(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	fts := plugintest.InTreeFeatures()
	for i := 0; i < plugintest.DifferentialCases; i++ {
		nodes := g.Nodes(1 + g.Intn(6))
		placed := g.PlacedPods(10, nodes, 0.4)
		namespaces := g.Namespaces()
		cluster := plugintest.NewCluster(t, placed, nodes, namespaces)
		weight, ignore := int32(g.Intn(3)), g.Chance(0.2)
		oracle, err := upstream.New(ctx, &config.InterPodAffinityArgs{HardPodAffinityWeight: weight, IgnorePreferredTermsOfExistingPods: ignore}, cluster.Handle, fts)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := podaffinity.NewWithArgs(cluster.Handle, podaffinity.Args{HardPodAffinityWeight: ptr.To(weight), IgnorePreferredTermsOfExistingPods: ignore})
		if err != nil {
			t.Fatal(err)
		}
		pod := g.AffinityPod(fmt.Sprintf("p%d", i), 0.7)
		describe := func() string {
			return fmt.Sprintf("pod %s\nnodes %s\nplaced %s\nnamespaces %s", plugintest.Dump(pod), plugintest.Dump(nodes), plugintest.Dump(placed), plugintest.Dump(namespaces))
		}

		want, wantState := plugintest.Filter(ctx, oracle.(fwk.FilterPlugin), pod, cluster.Nodes)
		got, gotState := plugintest.Filter(ctx, ours, pod, cluster.Nodes)
		if diff := plugintest.DiffVerdicts(want, got, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: %s\n%s", i, diff, describe())
		}

		if want.PreFilter.IsSuccess() && got.PreFilter.IsSuccess() {
			change, node := preemptionStep(g, placed, cluster)
			{
				want = refilter(ctx, oracle.(fwk.FilterPlugin), oracle.(fwk.PreFilterPlugin).PreFilterExtensions(), wantState, pod, change, node, cluster.Nodes)
				got = refilter(ctx, ours, ours.PreFilterExtensions(), gotState, pod, change, node, cluster.Nodes)
				if diff := plugintest.DiffVerdicts(want, got, cluster.Nodes); diff != "" {
					t.Fatalf("case %d after %s of %s on %s: %s\n%s", i, change.op, plugintest.Dump(change.pod), node.Node().Name, diff, describe())
				}
			}
		}

		wantScores, ws := plugintest.Score(ctx, oracle.(fwk.ScorePlugin), pod, cluster.Nodes)
		gotScores, gs := plugintest.Score(ctx, ours, pod, cluster.Nodes)
		if diff := plugintest.DiffScores(wantScores, ws, gotScores, gs); diff != "" {
			t.Fatalf("case %d: %s\nweight %d ignore %v\n%s", i, diff, weight, ignore, describe())
		}
	}
}

type podChange struct {
	op  string
	pod *v1.Pod
}

// preemptionStep picks what preemption might simulate: removing a placed pod
// or adding a new one to a random node.
func preemptionStep(g plugintest.Gen, placed []*v1.Pod, cluster *plugintest.Cluster) (*podChange, fwk.NodeInfo) {
	if len(placed) > 0 && g.Chance(0.5) {
		p := placed[g.Intn(len(placed))]
		for _, ni := range cluster.Nodes {
			if ni.Node().Name == p.Spec.NodeName {
				return &podChange{"remove", p}, ni
			}
		}
	}
	p := g.AffinityPod("added", 0.4)
	ni := cluster.Nodes[g.Intn(len(cluster.Nodes))]
	p.Spec.NodeName = ni.Node().Name
	return &podChange{"add", p}, ni
}

func refilter(ctx context.Context, pl fwk.FilterPlugin, ext fwk.PreFilterExtensions, state fwk.CycleState, pod *v1.Pod, change *podChange, node fwk.NodeInfo, nodes []fwk.NodeInfo) plugintest.Verdict {
	info, _ := framework.NewPodInfo(change.pod)
	state = state.Clone()
	var s *fwk.Status
	if change.op == "remove" {
		s = ext.RemovePod(ctx, state, pod, info, node)
	} else {
		s = ext.AddPod(ctx, state, pod, info, node)
	}
	v := plugintest.Verdict{PreFilter: s}
	if !s.IsSuccess() {
		return v
	}
	for _, n := range nodes {
		v.Nodes = append(v.Nodes, pl.Filter(ctx, state, pod, n))
	}
	return v
}
