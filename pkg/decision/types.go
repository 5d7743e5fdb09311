package decision

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The API of the stored records: namespaced custom resources in the pods'
// namespaces. A PlacementDecision is one pod's record, named by the pod's
// UID; a PlacementDecisionBatch holds the records of many pods of one
// namespace that were bound at their first attempt, written with one
// request (see Batched).
const (
	Group         = "placement.kube-placement.io"
	Version       = "v1alpha1"
	Kind          = "PlacementDecision"
	Resource      = "placementdecisions"
	BatchKind     = "PlacementDecisionBatch"
	BatchResource = "placementdecisionbatches"
)

// GroupVersionResource addresses the records with a dynamic client;
// BatchGroupVersionResource the batches.
var (
	GroupVersionResource      = schema.GroupVersionResource{Group: Group, Version: Version, Resource: Resource}
	BatchGroupVersionResource = schema.GroupVersionResource{Group: Group, Version: Version, Resource: BatchResource}
)

// Batched says whether a record goes into a batch: a pod bound at its first
// attempt is decided once and for all, so its record is never replaced and
// may share an object with others. A pod tried again keeps a
// PlacementDecision of its own, which each newer attempt replaces.
func Batched(d *Decision) bool {
	return d.Outcome == Bound && d.Attempts <= 1
}

// Outcome is what the scheduling attempt ended in.
type Outcome string

const (
	// Bound: the pod was bound to Node (the record is written after the
	// binding succeeded).
	Bound Outcome = "Bound"
	// Nominated: no node fitted; preemption nominated Node, its victims are
	// being evicted, and the pod will be tried again.
	Nominated Outcome = "Nominated"
	// Unschedulable: no node fitted and preemption found nothing.
	Unschedulable Outcome = "Unschedulable"
	// Failed: a node was chosen but reserving, permitting or binding failed
	// (Message says why); the pod will be tried again.
	Failed Outcome = "Failed"
)

// Decision is the record of a pod's latest scheduling attempt, taken from the
// scheduling cycle itself. It holds counts and the top nodes' scores, never
// other pods, so its size does not grow with the cluster.
type Decision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Pod PodReference `json:"pod"`
	// Profile is the scheduler profile (schedulerName) that decided.
	Profile string `json:"profile"`
	// Time is when the scheduling cycle ended.
	Time metav1.MicroTime `json:"time"`
	// Attempts counts the scheduling attempts of this pod so far, this one
	// included; only the latest attempt is kept.
	Attempts int     `json:"attempts"`
	Outcome  Outcome `json:"outcome"`
	// Node is the node bound to, nominated, or chosen before a failure.
	Node  string     `json:"node,omitempty"`
	Nodes NodeCounts `json:"nodes"`
	// Shortcut says how the cycle narrowed its search, when it did:
	// "NominatedNode" (the pod's nominated node was tried first and fitted)
	// or "BatchHint" (a previous pod of the same signature left a hint,
	// opportunistic batching, which fitted). Then Filter ran on one node and
	// nothing was scored.
	Shortcut string `json:"shortcut,omitempty"`
	// Rejections count the nodes each plugin rejected, by reason, in the
	// order of the largest count first.
	Rejections []Rejection `json:"rejections,omitempty"`
	// Scores are the top feasible nodes by total score, the chosen one
	// first; absent when fewer than two nodes were feasible (nothing is
	// scored then). Stored compactly: see TopScores.
	Scores TopScores `json:"scores,omitempty"`
	// Margin is the chosen node's total score minus the best total of the
	// other feasible nodes (0: a tie, broken at random by the scheduler).
	Margin *int64 `json:"margin,omitempty"`
	// Tied counts the other feasible nodes whose total equals the chosen one's.
	Tied int `json:"tied,omitempty"`
	// Message is the scheduler's own message for a pod left unscheduled (the
	// FailedScheduling event's text, preemption's part included) or the
	// error of a failed attempt.
	Message string `json:"message,omitempty"`
}

// PodReference names the decided pod as it was in the cycle.
type PodReference struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
	// Generation counts the changes of the pod's spec; explain compares it
	// with the pod's now. (The resourceVersion changes with every status
	// update, the scheduler's own among them.)
	Generation      int64  `json:"generation,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// NodeCounts say how many nodes the cycle looked at.
type NodeCounts struct {
	// Total is the number of nodes in the cycle's snapshot.
	Total int `json:"total"`
	// Evaluated is the number of nodes Filter ran on; fewer than Total when
	// percentageOfNodesToScore ended the search early or a shortcut applied.
	Evaluated int `json:"evaluated"`
	// Feasible is the number of evaluated nodes that passed every filter.
	Feasible int `json:"feasible"`
}

// Rejection counts the nodes one plugin rejected for one reason.
type Rejection struct {
	// Plugin is the plugin that rejected; empty when the framework did
	// (nodes left out by a PreFilter result).
	Plugin string `json:"plugin,omitempty"`
	Reason string `json:"reason"`
	Nodes  int    `json:"nodes"`
	// Examples name a few of the nodes, in no particular order.
	Examples []string `json:"examples,omitempty"`
}

// NodeScore is one feasible node's scores, each plugin's normalized score
// already multiplied by its weight, as the framework sums them.
type NodeScore struct {
	Node    string        `json:"node"`
	Total   int64         `json:"total"`
	Plugins []PluginScore `json:"plugins,omitempty"`
}

// PluginScore is one plugin's weighted score.
type PluginScore struct {
	Plugin string `json:"plugin"`
	Score  int64  `json:"score"`
}
