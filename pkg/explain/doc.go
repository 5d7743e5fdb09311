// Package explain answers what the scheduler would do with pods now, and
// why, with the scheduler's own code over one listing of the cluster.
//
// The engine: a Session (session.go) builds the frameworks of a
// KubeSchedulerConfiguration's profiles (our plugins and the upstream ones)
// and fills one scheduler cache from the cluster through informers; Place
// (place.go) runs the scheduler's own scheduling cycle for a pod and assumes
// it where it lands; Priorities (priorities.go) admit new pods as the API
// server would; evaluate.go runs every plugin on every node for one pod.
//
// The answers, one file each, on top of it: Explain (explain.go) reports
// each plugin's verdict and score per node for one pod; Simulate
// (simulate.go) places a workload's replicas, Capacity (capacity.go) copies
// of a pod until one fits nowhere, both through workloads.go; PendingPods
// (pending.go) explains every pending pod. The answers' types are versioned
// (answers.go, explanation.go); errors are typed (errors.go) and carry no
// command-line wording: pkg/kubectlplacement prints both. It only reads
// from the cluster.
package explain
