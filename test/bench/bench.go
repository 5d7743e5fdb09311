// Package bench runs upstream's scheduler_perf harness on our workloads, each
// once with the default profile (in-tree plugins) and once with
// placement-scheduler's, in the same run. `make perf*` drives it and turns the
// results into a table and a page under docs/ (see ./report).
package bench

// CycleMetric times every once-per-cycle call of PlacementPodAffinity,
// labelled with the pod's namespace. The scheduler's own plugin histogram
// cannot give the measured pods' figures: it times one cycle in ten, keeps
// what fits a buffer of 1,000 observations a second (one sampled cycle's
// per-node Filter and Score calls fill it), and scheduler_perf's reset before
// the measured pods does not clear it. Labelled by namespace, this one holds
// exactly the measured pods' calls; scheduler_perf resets the registry
// between workloads.
const CycleMetric = "placement_bench_affinity_cycle_duration_seconds"

// CPUMetric is the CPU time the benchmark process spent between one measured
// pod's scheduling cycle and the next, labelled with the pods' namespace: its
// mean is the process's CPU per measured pod (scheduler, in-process
// apiserver and the harness's client; etcd runs as a process of its own and
// is not counted). It is the measure issue #16 states its goal for affinity
// pods against plain ones in, and it does not count time the process spent
// waiting; on shared cores, though, it swings from run to run about as much
// as pods/s do.
const CPUMetric = "placement_bench_cpu_per_pod_seconds"

// CPUProbe is the name of the PreFilter plugin that records CPUMetric; the
// benchmark enables it in every profile it runs.
const CPUProbe = "PlacementBenchCPUProbe"
