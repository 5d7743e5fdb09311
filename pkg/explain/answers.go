package explain

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// APIVersion versions the shape of every answer printed with -o json or
// -o yaml (docs/output.md). Fields may be added within a version; none is
// renamed or removed.
const APIVersion = "placement.kube-placement.io/v1alpha1"

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: APIVersion, Kind: kind}
}

// Simulation is where the replicas of some workloads would land.
type Simulation struct {
	metav1.TypeMeta `json:",inline"`
	// Nodes counts the nodes in the snapshot, added ones included.
	Nodes int `json:"nodes"`
	// AddedNodes names the nodes added to the snapshot (--add-nodes).
	AddedNodes []string            `json:"addedNodes,omitempty"`
	Workloads  []WorkloadPlacement `json:"workloads"`
}

// WorkloadPlacement is one workload's replicas, placed in order.
type WorkloadPlacement struct {
	// Workload is kind/name, lower-case kind as kubectl prints it.
	Workload  string `json:"workload"`
	Namespace string `json:"namespace"`
	// Profile is the scheduler profile that placed the replicas.
	Profile  string `json:"profile"`
	Replicas int    `json:"replicas"`
	Placed   int    `json:"placed"`
	Pending  int    `json:"pending"`
	// ByNode and ByZone count the placed replicas, most first.
	ByNode []Count `json:"byNode"`
	ByZone []Count `json:"byZone"`
	// FirstPending explains the first replica that fit nowhere.
	FirstPending *PendingReplica `json:"firstPending,omitempty"`
	// Preemptions are the replicas that fit only by preempting, in order.
	Preemptions []Preemption `json:"preemptions,omitempty"`
	// Notes say what the simulation assumed.
	Notes []string `json:"notes,omitempty"`
}

// Count is how many pods landed on one node or in one zone ("" for nodes
// without a topology.kubernetes.io/zone label).
type Count struct {
	Name string `json:"name"`
	Pods int    `json:"pods"`
}

// PendingReplica is why one replica fits nowhere.
type PendingReplica struct {
	Pod string `json:"pod"`
	// Unschedulable is the message of the FailedScheduling event the
	// scheduler would record.
	Unschedulable string `json:"unschedulable"`
	// Rejected groups the nodes by the plugin and reasons that rejected
	// them, largest group first.
	Rejected []Rejection `json:"rejected"`
	// PreemptionCandidates are nodes where the replica would fit if the
	// lower-priority pods there were evicted; set only when preemption was
	// not simulated (NoPreemption).
	PreemptionCandidates []string `json:"preemptionCandidates,omitempty"`
}

// Preemption is one pod that fits only by preempting: the node the
// profile's DefaultPreemption nominates and the pods it evicts there.
type Preemption struct {
	Pod string `json:"pod"`
	// Node is the nominated node; NodeName says where the next cycle put
	// the pod, "" when it still fit nowhere.
	Node     string   `json:"node"`
	NodeName string   `json:"nodeName"`
	Victims  []Victim `json:"victims"`
	// PDBViolations counts victims whose PodDisruptionBudget does not allow
	// the disruption: preemption spares budgets only where it can.
	PDBViolations int `json:"pdbViolations,omitempty"`
}

// Victim is one pod preemption evicts.
type Victim struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Priority  int32  `json:"priority"`
	// Simulated marks a pod placed earlier in the same answer, not one of
	// the cluster's.
	Simulated bool `json:"simulated,omitempty"`
}

// CapacityReport is how many more copies of a pod fit.
type CapacityReport struct {
	metav1.TypeMeta `json:",inline"`
	// Pod is the first copy's namespace/name.
	Pod     string `json:"pod"`
	Profile string `json:"profile"`
	Nodes   int    `json:"nodes"`
	// AddedNodes names the nodes added to the snapshot (--add-nodes).
	AddedNodes []string `json:"addedNodes,omitempty"`
	// Fits counts the copies placed.
	Fits int `json:"fits"`
	// Max is where counting stops; Limited says it stopped there, so more
	// may fit.
	Max     int     `json:"max"`
	Limited bool    `json:"limited"`
	ByNode  []Count `json:"byNode"`
	ByZone  []Count `json:"byZone"`
	// Next says why one more copy fits nowhere; absent when Limited.
	Next *PendingReplica `json:"next,omitempty"`
	// Preemptions are the copies that fit only by preempting, in order.
	Preemptions []Preemption `json:"preemptions,omitempty"`
	Notes       []string     `json:"notes,omitempty"`
}

// PendingPods is every pending pod of our profiles, with what blocks it.
type PendingPods struct {
	metav1.TypeMeta `json:",inline"`
	Nodes           int          `json:"nodes"`
	Pods            []PendingPod `json:"pods"`
}

// PendingPod is one pending pod and the plugin that rejects the most nodes.
type PendingPod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Profile   string `json:"profile"`
	// Schedulable is true when a node fits the pod now (it may be waiting
	// in the scheduler's backoff, or gated); Pick names the best ones.
	Schedulable bool     `json:"schedulable"`
	Pick        []string `json:"pick,omitempty"`
	// Blocker is the largest rejection group: the plugin and reasons that
	// keep the pod off the most nodes.
	Blocker *Rejection `json:"blocker,omitempty"`
	// Unschedulable is the FailedScheduling message.
	Unschedulable string `json:"unschedulable,omitempty"`
	// Error is set when the pod could not be evaluated (its profile is not
	// in the configuration, say).
	Error string `json:"error,omitempty"`
}

func (e *Explanation) DeepCopyObject() runtime.Object    { return deepCopy(e) }
func (s *Simulation) DeepCopyObject() runtime.Object     { return deepCopy(s) }
func (c *CapacityReport) DeepCopyObject() runtime.Object { return deepCopy(c) }
func (p *PendingPods) DeepCopyObject() runtime.Object    { return deepCopy(p) }
func (d *Drift) DeepCopyObject() runtime.Object          { return deepCopy(d) }
func (d *DrainPlan) DeepCopyObject() runtime.Object      { return deepCopy(d) }
func (n *NodesNeeded) DeepCopyObject() runtime.Object    { return deepCopy(n) }

// deepCopy copies an answer through its JSON form, which is all of it.
func deepCopy[T any, P interface {
	*T
	runtime.Object
}](in P) runtime.Object {
	data, err := json.Marshal(in)
	if err != nil {
		panic(err) // answers hold only strings, numbers and slices of them
	}
	out := P(new(T))
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}
