package explain

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
