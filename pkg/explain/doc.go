// Package explain answers, for one pod, what the scheduler would do with it
// now and why: it builds the framework of one profile of a
// KubeSchedulerConfiguration (our plugins and the upstream ones), fills a
// scheduler cache from the cluster through informers, and over one snapshot
// runs PreFilter and Filter on every node and PreScore, Score and
// NormalizeScore on the feasible ones, reporting each plugin's verdict and
// score per node. It only reads from the cluster. The command line that
// prints it is pkg/kubectlplacement.
package explain
