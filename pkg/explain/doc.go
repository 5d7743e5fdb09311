// Package explain answers what the scheduler would do with pods now, and
// why. A Session builds the frameworks of a KubeSchedulerConfiguration's
// profiles (our plugins and the upstream ones), fills one scheduler cache
// from the cluster through informers, and then answers over it: Explain runs
// PreFilter and Filter on every node and the score phases on the feasible
// ones for one pod, reporting each plugin's verdict and score per node;
// Place runs the scheduler's own scheduling cycle and assumes the pod where
// it lands, which Simulate (a workload's replicas) and Capacity (copies of
// a pod until one fits nowhere) repeat; PendingPods explains every pending
// pod. It only reads from the cluster. The command line that prints the
// answers is pkg/kubectlplacement.
package explain
