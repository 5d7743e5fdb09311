package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// DifferentialCases is how many random clusters a differential test tries.
const DifferentialCases = 10000

// Differential runs DifferentialCases random clusters, each with a pod with
// random node-side constraints, through an in-tree plugin and ours (as build
// makes them over the cluster's handle) and fails on the first difference in
// PreFilter, Filter or, when both score, normalized scores.
func Differential(t *testing.T, build func(h fwk.Handle) (oracle, ours fwk.Plugin)) {
	g := NewGen(Seed(t))
	for i := 0; i < DifferentialCases; i++ {
		nodes := g.Nodes(1 + g.Intn(8))
		cluster := NewCluster(t, nil, nodes, nil)
		oracle, ours := build(cluster.Handle)
		pod := g.NodePod(fmt.Sprintf("p%d", i), len(nodes))
		if diff := DiffPlugins(context.Background(), oracle, ours, pod, cluster.Nodes); diff != "" {
			t.Fatalf("case %d: %s\npod %s\nnodes %s", i, diff, Dump(pod), Dump(nodes))
		}
	}
}

// DiffPlugins compares two plugins on one pod over nodes; "" when they agree.
func DiffPlugins(ctx context.Context, oracle, ours fwk.Plugin, pod *v1.Pod, nodes []fwk.NodeInfo) string {
	want, _ := Filter(ctx, oracle.(fwk.FilterPlugin), pod, nodes)
	got, _ := Filter(ctx, ours.(fwk.FilterPlugin), pod, nodes)
	if diff := DiffVerdicts(want, got, nodes); diff != "" {
		return diff
	}
	oracleScore, ok1 := oracle.(fwk.ScorePlugin)
	ourScore, ok2 := ours.(fwk.ScorePlugin)
	if !ok1 || !ok2 {
		return ""
	}
	wantScores, ws := Score(ctx, oracleScore, pod, nodes)
	gotScores, gs := Score(ctx, ourScore, pod, nodes)
	return DiffScores(wantScores, ws, gotScores, gs)
}

// Dump renders an object as JSON for failure messages.
func Dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
