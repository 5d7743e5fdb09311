package explain

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

func TestCompare(t *testing.T) {
	today := func() *Explanation {
		return &Explanation{
			Nodes:    5,
			Feasible: []NodeScore{{Node: "a", Rank: 1, Total: 90}, {Node: "b", Rank: 2, Total: 80}},
			Rejected: []Rejection{{Plugin: "PlacementTaintToleration", Reasons: []string{"node(s) had untolerated taint(s)"}, Nodes: []string{"c", "d", "e"}}},
		}
	}
	bound := func(node string) *decision.Decision {
		return &decision.Decision{
			Outcome: decision.Bound, Node: node, Pod: decision.PodReference{Generation: 1},
			Nodes:  decision.NodeCounts{Total: 6, Evaluated: 6, Feasible: 3},
			Scores: []decision.NodeScore{{Node: node, Total: 70}, {Node: "x", Total: 70}}, Margin: ptr.To[int64](0), Tied: 1,
		}
	}
	tests := []struct {
		name       string
		d          *decision.Decision
		generation int64
		want       *SinceDecision
	}{
		{"still the best", bound("a"), 1, &SinceDecision{Node: "a", RankThen: 1, RankNow: 1, FeasibleThen: 3, FeasibleNow: 2, NodesThen: 6, NodesNow: 5}},
		{"ranks lower", bound("b"), 1, &SinceDecision{Node: "b", RankThen: 1, RankNow: 2, FeasibleThen: 3, FeasibleNow: 2, NodesThen: 6, NodesNow: 5}},
		{"rejected now", bound("d"), 1, &SinceDecision{Node: "d", RankThen: 1, NodeRejection: &today().Rejected[0], FeasibleThen: 3, FeasibleNow: 2, NodesThen: 6, NodesNow: 5}},
		{"gone, spec changed", bound("z"), 2, &SinceDecision{Node: "z", NodeGone: true, RankThen: 1, FeasibleThen: 3, FeasibleNow: 2, NodesThen: 6, NodesNow: 5, PodChanged: true}},
		{"was unschedulable", &decision.Decision{Outcome: decision.Unschedulable, Nodes: decision.NodeCounts{Total: 5, Evaluated: 5}}, 0,
			&SinceDecision{FeasibleNow: 2, NodesThen: 5, NodesNow: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := today()
			e.Compare(tc.d, tc.generation)
			if e.Decision != tc.d {
				t.Error("the record is not attached")
			}
			if diff := cmp.Diff(tc.want, e.Since); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	e := today()
	if e.Compare(nil, 1); e.Decision != nil || e.Since != nil {
		t.Errorf("no record: %+v %+v", e.Decision, e.Since)
	}
}
