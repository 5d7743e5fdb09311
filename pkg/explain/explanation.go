package explain

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

// Explanation is what one pod meets over one snapshot of the cluster: which
// plugin rejected each node and why, and how each feasible node scored.
type Explanation struct {
	metav1.TypeMeta `json:",inline"`
	// Pod is namespace/name.
	Pod string `json:"pod"`
	// Profile is the scheduler profile that ran, by schedulerName.
	Profile string `json:"profile"`
	// BoundNode is the node the pod is bound to; explain evaluates the pod as
	// if it were not, on a snapshot without it.
	BoundNode string `json:"boundNode,omitempty"`
	// Nodes counts the nodes in the snapshot.
	Nodes int `json:"nodes"`
	// Unschedulable is, when no node is feasible, the message the scheduler
	// puts in the FailedScheduling event (before preemption's part).
	Unschedulable string `json:"unschedulable,omitempty"`
	// Rejected groups the infeasible nodes by plugin and reasons, largest
	// group first.
	Rejected []Rejection `json:"rejected"`
	// Feasible lists the feasible nodes, best score first.
	Feasible []NodeScore `json:"feasible"`
	// Pick are the feasible nodes with the top score: the scheduler picks one
	// of them at random.
	Pick []string `json:"pick,omitempty"`
	// Bound says how the bound node fares now, for a bound pod.
	Bound *BoundRank `json:"bound,omitempty"`
	// Decision is the scheduler's record of its latest decision on the pod,
	// taken from the scheduling cycle itself; absent when none was recorded
	// (the profile does not record, or the record expired).
	Decision *decision.Decision `json:"decision,omitempty"`
	// Since says how today's evaluation differs from Decision.
	Since *SinceDecision `json:"sinceDecision,omitempty"`
}

// SinceDecision compares the recorded decision with today's evaluation.
type SinceDecision struct {
	// Node is the node decided on then (bound to or nominated).
	Node string `json:"node,omitempty"`
	// NodeGone: that node is no longer in the cluster.
	NodeGone bool `json:"nodeGone,omitempty"`
	// NodeRejection is what rejects that node now, if something does.
	NodeRejection *Rejection `json:"nodeRejection,omitempty"`
	// RankThen and RankNow place that node among the feasible nodes (1 is
	// the best; 0: not ranked, e.g. nothing was scored then).
	RankThen int `json:"rankThen,omitempty"`
	RankNow  int `json:"rankNow,omitempty"`
	// FeasibleThen and FeasibleNow count the feasible nodes; then, of the
	// nodes the scheduler evaluated (see the decision's nodes.evaluated).
	FeasibleThen int `json:"feasibleThen"`
	FeasibleNow  int `json:"feasibleNow"`
	NodesThen    int `json:"nodesThen"`
	NodesNow     int `json:"nodesNow"`
	// PodChanged: the pod's spec changed since (its generation differs
	// from the decided one).
	PodChanged bool `json:"podChanged,omitempty"`
}

// Compare attaches d, the pod's recorded decision, and how today's
// evaluation differs from it. podGeneration is the pod's now (0: unknown).
func (e *Explanation) Compare(d *decision.Decision, podGeneration int64) {
	if d == nil {
		return
	}
	e.Decision = d
	s := &SinceDecision{
		Node:         d.Node,
		FeasibleThen: d.Nodes.Feasible, FeasibleNow: len(e.Feasible),
		NodesThen: d.Nodes.Total, NodesNow: e.Nodes,
		PodChanged: podGeneration != 0 && d.Pod.Generation != 0 && podGeneration != d.Pod.Generation,
	}
	if len(d.Scores) > 0 {
		s.RankThen = 1
		for _, n := range d.Scores[1:] {
			if n.Total > d.Scores[0].Total {
				s.RankThen++
			}
		}
	}
	if d.Node != "" {
		s.NodeGone = true
		for _, n := range e.Feasible {
			if n.Node == d.Node {
				s.NodeGone, s.RankNow = false, n.Rank
			}
		}
		for i := range e.Rejected {
			for _, n := range e.Rejected[i].Nodes {
				if n == d.Node {
					r := e.Rejected[i]
					s.NodeGone, s.NodeRejection = false, &r
				}
			}
		}
	}
	e.Since = s
}

// Rejection is a group of nodes that one plugin rejected for the same reasons.
type Rejection struct {
	Plugin string `json:"plugin"`
	// Code is the framework status code, e.g. UnschedulableAndUnresolvable.
	Code    string   `json:"code"`
	Reasons []string `json:"reasons"`
	Nodes   []string `json:"nodes"`
}

// NodeScore is one feasible node's scores.
type NodeScore struct {
	Node string `json:"node"`
	// Rank is 1 for the best total; tied nodes share a rank.
	Rank    int           `json:"rank"`
	Total   int64         `json:"total"`
	Plugins []PluginScore `json:"plugins"`
}

// PluginScore is one score plugin's verdict on one node.
type PluginScore struct {
	Plugin string `json:"plugin"`
	// Score is the normalized score, 0-100.
	Score    int64 `json:"score"`
	Weight   int64 `json:"weight"`
	Weighted int64 `json:"weighted"`
}

// BoundRank places a bound pod's node among today's candidates.
type BoundRank struct {
	Node string `json:"node"`
	// Rank among the feasible nodes; 0 when the node is not feasible now.
	Rank     int `json:"rank,omitempty"`
	Feasible int `json:"feasible"`
	// Rejection is set when the node would be rejected now.
	Rejection *Rejection `json:"rejection,omitempty"`
}
