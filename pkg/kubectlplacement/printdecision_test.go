package kubectlplacement

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func TestOutcome(t *testing.T) {
	nodes := decision.NodeCounts{Total: 5000, Evaluated: 1000, Feasible: 412}
	tests := []struct {
		name string
		d    decision.Decision
		want string
	}{
		{"lead", decision.Decision{Outcome: decision.Bound, Node: "b1", Nodes: nodes, Margin: ptr.To[int64](37)},
			"bound to b1: rank 1 of 412 feasible (5000 nodes, 1000 evaluated), margin 37"},
		{"tie", decision.Decision{Outcome: decision.Bound, Node: "b1", Nodes: nodes, Margin: ptr.To[int64](0), Tied: 2},
			"bound to b1: rank 1 of 412 feasible (5000 nodes, 1000 evaluated), tied with 2 other node(s), picked at random"},
		{"only node", decision.Decision{Outcome: decision.Bound, Node: "b1", Nodes: decision.NodeCounts{Total: 3, Evaluated: 3, Feasible: 1}},
			"bound to b1: the only feasible node (3 nodes, 3 evaluated)"},
		{"nominated node", decision.Decision{Outcome: decision.Bound, Node: "b1", Shortcut: "NominatedNode", Nodes: decision.NodeCounts{Total: 3, Evaluated: 1, Feasible: 1}},
			"bound to b1: its nominated node, tried first and feasible (3 nodes, 1 evaluated)"},
		{"preemption", decision.Decision{Outcome: decision.Nominated, Node: "b1", Nodes: decision.NodeCounts{Total: 3, Evaluated: 3}},
			"no node fitted (3 nodes, 3 evaluated); preemption nominated b1"},
		{"failed", decision.Decision{Outcome: decision.Failed, Node: "b1", Nodes: nodes},
			"failed after choosing b1 (5000 nodes, 1000 evaluated)"},
	}
	for _, tc := range tests {
		if got := outcome(&tc.d); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestSinceThen(t *testing.T) {
	tests := []struct {
		name string
		s    explain.SinceDecision
		want string
	}{
		{"unchanged", explain.SinceDecision{Node: "b1", RankThen: 1, RankNow: 1, FeasibleThen: 4, FeasibleNow: 4, NodesThen: 6, NodesNow: 6}, "b1 still ranks 1"},
		{"gone", explain.SinceDecision{Node: "b1", NodeGone: true, RankThen: 1, FeasibleThen: 4, FeasibleNow: 3, NodesThen: 6, NodesNow: 5},
			"b1 is gone; 3 of 5 nodes feasible now (4 of 6 then)"},
		{"rejected", explain.SinceDecision{Node: "b1", NodeRejection: &explain.Rejection{Plugin: "PlacementTaintToleration", Reasons: []string{"node(s) had untolerated taint(s)"}}, FeasibleThen: 4, FeasibleNow: 3, NodesThen: 6, NodesNow: 6},
			"b1 would now be rejected by PlacementTaintToleration: node(s) had untolerated taint(s); 3 of 6 nodes feasible now (4 of 6 then)"},
		{"rank dropped, spec changed", explain.SinceDecision{Node: "b1", RankThen: 1, RankNow: 3, FeasibleThen: 4, FeasibleNow: 4, NodesThen: 6, NodesNow: 6, PodChanged: true},
			"b1 ranks 3 now (1 then); the pod's spec changed"},
		{"still unschedulable", explain.SinceDecision{NodesThen: 6, NodesNow: 6}, "nothing that changes the answer"},
	}
	for _, tc := range tests {
		if got := sinceThen(&tc.s); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestPrintDecisions(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	defer func(saved func() time.Time) { now = saved }(now)
	now = func() time.Time { return at.Add(3 * time.Hour) }
	l := &decision.DecisionList{Items: []decision.Decision{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop"}, Pod: decision.PodReference{Name: "web-0"}, Outcome: decision.Bound, Node: "b1",
			Nodes: decision.NodeCounts{Total: 6, Evaluated: 6, Feasible: 4}, Margin: ptr.To[int64](37), Attempts: 1, Time: metav1.NewMicroTime(at)},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop"}, Pod: decision.PodReference{Name: "web-1"}, Outcome: decision.Unschedulable,
			Nodes: decision.NodeCounts{Total: 6, Evaluated: 6}, Attempts: 12, Time: metav1.NewMicroTime(at),
			Rejections: []decision.Rejection{{Plugin: "PlacementTaintToleration", Reason: "node(s) had untolerated taint(s)", Nodes: 6}}},
	}}
	var out bytes.Buffer
	if err := Print(&out, l, "text", PrintOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `NAMESPACE  POD    OUTCOME        NODE  FEASIBLE  MARGIN  ATTEMPTS  AGE  TOP REJECTION
shop       web-0  Bound          b1    4/6       37      1         3h   -
shop       web-1  Unschedulable  -     0/6       -       12        3h   6 node(s) had untolerated taint(s)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := Print(&out, &decision.DecisionList{}, "text", PrintOptions{}); err != nil || !strings.Contains(out.String(), "No decision records.") {
		t.Errorf("empty list: %v %q", err, out.String())
	}
}
