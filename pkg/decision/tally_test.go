package decision

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"
)

func TestTally(t *testing.T) {
	tl := tally{}
	taint := fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had untolerated taint(s)").WithPlugin("PlacementTaintToleration")
	fit := fwk.NewStatus(fwk.Unschedulable, "Insufficient cpu", "Insufficient memory").WithPlugin("NodeResourcesFit")
	for _, n := range []string{"a", "b", "c", "d"} {
		tl.add(n, taint)
	}
	tl.add("e", fit)
	tl.addN("", "node(s) didn't satisfy plugin(s) [PlacementNodeAffinity]", 7, "")
	want := []Rejection{
		{Reason: "node(s) didn't satisfy plugin(s) [PlacementNodeAffinity]", Nodes: 7},
		{Plugin: "PlacementTaintToleration", Reason: "node(s) had untolerated taint(s)", Nodes: 4, Examples: []string{"a", "b", "c"}},
		{Plugin: "NodeResourcesFit", Reason: "Insufficient cpu", Nodes: 1, Examples: []string{"e"}},
		{Plugin: "NodeResourcesFit", Reason: "Insufficient memory", Nodes: 1, Examples: []string{"e"}},
	}
	if diff := cmp.Diff(want, tl.list()); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
}

func TestTopScores(t *testing.T) {
	scores := func(totals map[string]int64, order ...string) []fwk.NodePluginScores {
		var out []fwk.NodePluginScores
		for _, n := range order {
			out = append(out, fwk.NodePluginScores{Name: n, TotalScore: totals[n], Scores: []fwk.PluginScore{{Name: "P", Score: totals[n]}}})
		}
		return out
	}
	totals := map[string]int64{"a": 10, "b": 50, "c": 50, "d": 30, "e": 40, "f": 5}
	order := []string{"a", "b", "c", "d", "e", "f"}
	tests := []struct {
		name      string
		chosen    string
		n         int
		wantNodes []string
		margin    *int64
		tied      int
	}{
		{name: "chosen among tied", chosen: "c", n: 3, wantNodes: []string{"c", "b", "e"}, margin: ptr.To[int64](0), tied: 1},
		{name: "all", chosen: "b", n: 10, wantNodes: []string{"b", "c", "e", "d", "a", "f"}, margin: ptr.To[int64](0), tied: 1},
		{name: "only the chosen", chosen: "b", n: 1, wantNodes: []string{"b"}, margin: ptr.To[int64](0), tied: 1},
		{name: "chosen not scored", chosen: "x", n: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top, margin, tied := topScores(scores(totals, order...), tc.chosen, tc.n)
			var nodes []string
			for _, s := range top {
				nodes = append(nodes, s.Node)
				if s.Total != totals[s.Node] || len(s.Plugins) != 1 || s.Plugins[0].Score != totals[s.Node] {
					t.Errorf("node %s: %+v", s.Node, s)
				}
			}
			if diff := cmp.Diff(tc.wantNodes, nodes); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.margin, margin); diff != "" || tied != tc.tied {
				t.Errorf("margin %v tied %d; want %v, %d", ptr.Deref(margin, -1), tied, ptr.Deref(tc.margin, -1), tc.tied)
			}
		})
	}
	t.Run("a clear lead", func(t *testing.T) {
		_, margin, tied := topScores(scores(map[string]int64{"a": 90, "b": 20, "c": 30}, "a", "b", "c"), "a", 5)
		if margin == nil || *margin != 60 || tied != 0 {
			t.Errorf("margin %v tied %d; want 60, 0", margin, tied)
		}
	})
}
