// Package records measures what recording decisions costs the scheduler:
// the same workloads scheduled by two profiles of one in-process scheduler,
// one recording its decisions (PlacementDecisions) and one not, as adjacent
// runs of the same process, alternating which goes first. upstream's
// scheduler_perf, which `make perf` drives, builds and runs its scheduler
// itself, so it cannot attach the recorder (pkg/plugins/decisions.Attach
// needs the scheduler between its construction and its start); this harness
// runs the scheduler through the binary's own start-up instead
// (internal/localscheduler). `make perf-records` runs it.
package records

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2/ktesting"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
)

var (
	nodes  = flag.Int("nodes", 100, "nodes in the cluster")
	pods   = flag.Int("pods", 200, "pods per workload run")
	rounds = flag.Int("rounds", 1, "rounds; each runs every workload with both profiles")
	store  = flag.String("store", "api", "where records go: api (PlacementDecisions), or discard (nowhere: the scheduler's part of the cost alone)")
)

// discard keeps no record.
type discard struct{}

func (discard) Write(context.Context, *decision.Decision) error { return nil }
func (discard) WriteBatch(context.Context, string, string, []*decision.Decision) error {
	return nil
}
func (discard) List(context.Context, string, func(decision.Stored)) error { return nil }
func (discard) Delete(context.Context, decision.Stored) error             { return nil }

const (
	recording = "placement-scheduler"
	plain     = "placement-norecord"
)

// workloads are scheduler_perf's SchedulingBasic and hostname
// anti-affinity (SchedulingPodAntiAffinity): plain pods, and pods that
// repel each other per node.
var workloads = []string{"SchedulingBasic", "HostnameAntiAffinity"}

func BenchmarkRecording(b *testing.B) {
	ctx, cluster, cs := startCluster(b)
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		b.Fatal(err)
	}
	createNodes(ctx, b, cs, *nodes)
	kubeconfig := b.TempDir() + "/kubeconfig"
	if err := cluster.WriteKubeconfig(kubeconfig); err != nil {
		b.Fatal(err)
	}
	o := localscheduler.Options{Kubeconfig: kubeconfig, Config: twoProfiles(b), Flags: []string{"--secure-port=0"}}
	switch *store {
	case "api":
	case "discard":
		o.DecisionStore = discard{}
	default:
		b.Fatalf("-store %q: want api or discard", *store)
	}
	s, err := localscheduler.Start(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()

	type key struct{ workload, profile string }
	rates, cpus := map[key][]float64{}, map[key][]float64{}
	// rateRatios and cpuRatios are each round's on/off ratios: the two runs
	// of a round are adjacent, so they share the machine's mood of the
	// moment, which on a shared machine swings more than recording costs.
	rateRatios, cpuRatios := map[string][]float64{}, map[string][]float64{}
	writes, size := map[string]float64{}, map[string]float64{}
	for b.Loop() {
		for r := 0; r < *rounds; r++ {
			for i, w := range workloads {
				order := []string{recording, plain}
				if (r+i)%2 == 1 {
					slices.Reverse(order)
				}
				for _, p := range order {
					written := recordMetrics(b)["placement_decision_record_writes_total"]
					rate, cpu := run(ctx, b, cs, w, p, namespace(w, p, r))
					k := key{w, p}
					rates[k], cpus[k] = append(rates[k], rate), append(cpus[k], cpu)
					if p == recording {
						writes[w] = (recordMetrics(b)["placement_decision_record_writes_total"] - written) / float64(*pods)
						if *store == "api" {
							size[w] = recordBytes(ctx, b, dyn, namespace(w, p, r))
						}
					}
					b.Logf("round %d %s %s: %.1f pods/s, %.2f ms CPU per pod", r+1, w, p, rate, cpu*1000)
				}
				on, off := key{w, recording}, key{w, plain}
				rateRatios[w] = append(rateRatios[w], last(rates[on])/last(rates[off]))
				cpuRatios[w] = append(cpuRatios[w], last(cpus[on])/last(cpus[off]))
			}
		}
	}
	for _, w := range workloads {
		for _, p := range []string{recording, plain} {
			k := key{w, p}
			b.ReportMetric(median(rates[k]), w+"/"+p+"-pods/s")
			b.ReportMetric(median(cpus[k])*1000, w+"/"+p+"-cpu-ms/pod")
		}
		onRate, offRate := median(rates[key{w, recording}]), median(rates[key{w, plain}])
		onCPU, offCPU := median(cpus[key{w, recording}]), median(cpus[key{w, plain}])
		b.Logf("%s, %d nodes, %d pods, records to %s, medians of %d rounds: recording on %.1f pods/s %.2f ms CPU/pod; off %.1f pods/s %.2f ms CPU/pod; on/off pods/s %.3f, CPU/pod %.3f; median of the rounds' on/off: pods/s %.3f, CPU/pod %.3f; %.3f API writes of records per pod, %.0f bytes stored per record",
			w, *nodes, *pods, *store, *rounds, onRate, onCPU*1000, offRate, offCPU*1000, onRate/offRate, onCPU/offCPU, median(rateRatios[w]), median(cpuRatios[w]), writes[w], size[w])
	}
}

// startCluster starts the in-process control plane for the benchmark; it
// stops when the benchmark ends.
func startCluster(b *testing.B) (context.Context, *localcluster.Cluster, kubernetes.Interface) {
	_, ctx := ktesting.NewTestContext(b)
	ctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	cluster, err := localcluster.Start(ctx, localcluster.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cluster.Stop)
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		b.Fatal(err)
	}
	return ctx, cluster, cs
}

// twoProfiles is the deployable configuration with a second profile, the
// same but for PlacementDecisions, and the client's rate limit raised as
// scheduler_perf raises it.
func twoProfiles(b *testing.B) []byte {
	var doc map[string]any
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &doc); err != nil {
		b.Fatal(err)
	}
	doc["clientConnection"] = map[string]any{"qps": 5000, "burst": 5000}
	doc["leaderElection"] = map[string]any{"leaderElect": false}
	profiles := doc["profiles"].([]any)
	on := profiles[0].(map[string]any)
	off := map[string]any{}
	raw, _ := yaml.Marshal(on)
	if err := yaml.Unmarshal(raw, &off); err != nil {
		b.Fatal(err)
	}
	off["schedulerName"] = plain
	localscheduler.DropMultiPointPlugin(off, decisions.Name)
	doc["profiles"] = []any{on, off}
	out, err := yaml.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// run creates the workload's pods in a namespace of their own and waits for
// all of them to be bound; it returns pods/s and the process's CPU seconds
// per pod (scheduler, apiserver and this client: etcd too runs in-process).
func run(ctx context.Context, b *testing.B, cs kubernetes.Interface, workload, profile, namespace string) (float64, float64) {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	settled0 := settled(recordMetrics(b))
	cpu0, start := cpuTime(), time.Now()
	parallel(ctx, b, *pods, func(i int) error {
		_, err := cs.CoreV1().Pods(namespace).Create(ctx, pod(workload, profile, i), metav1.CreateOptions{})
		return err
	})
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName!=", ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		return len(list.Items) == *pods, nil
	})
	if err != nil {
		b.Fatalf("%s with %s: %v", workload, profile, err)
	}
	elapsed := time.Since(start)
	// The records are written behind the bindings: CPU counts until every
	// pod's record has been written (or dropped), so that their writes are
	// paid for here. An empty queue is not enough: the writes taken from it
	// may still be in flight. Polled every 100 ms: reading the metrics costs
	// CPU too (recordMetrics), and the writer writes every half second.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		m := recordMetrics(b)
		return m["placement_decision_records_queued"] == 0 && (profile != recording || settled(m)-settled0 >= float64(*pods)), nil
	}); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	return float64(*pods) / elapsed.Seconds(), cpu.Seconds() / float64(*pods)
}

func namespace(workload, profile string, round int) string {
	return fmt.Sprintf("%s-%s-%d", strings.ToLower(workload), profile, round)
}

// recordBytes is the mean size of a record as the API server stores it:
// the JSON of the namespace's PlacementDecisions and
// PlacementDecisionBatches (metadata included) over the records they hold
// (a batch's count, or its unpacked records as earlier releases wrote them).
func recordBytes(ctx context.Context, b *testing.B, dyn dynamic.Interface, namespace string) float64 {
	bytes, records := 0, 0
	for _, gvr := range []schema.GroupVersionResource{decision.GroupVersionResource, decision.BatchGroupVersionResource} {
		l, err := dyn.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range l.Items {
			raw, err := json.Marshal(u.Object)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(raw)
			records++
			if n, ok, _ := unstructured.NestedInt64(u.Object, "count"); ok {
				records += int(n) - 1
			} else if ds, ok, _ := unstructured.NestedSlice(u.Object, "decisions"); ok {
				records += len(ds) - 1
			}
		}
	}
	if records == 0 {
		return 0
	}
	return float64(bytes) / float64(records)
}

// settled counts the recording profile's records written or dropped.
func settled(m map[string]float64) float64 {
	return m["placement_decision_records_written_total"] + m["placement_decision_records_dropped_total"]
}

func pod(workload, profile string, i int) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Labels: map[string]string{"color": "green"}},
		Spec: v1.PodSpec{
			SchedulerName: profile,
			Containers: []v1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("500Mi")},
			}}},
		},
	}
	if workload == "HostnameAntiAffinity" {
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"color": "green"}},
				TopologyKey:   v1.LabelHostname,
			}},
		}}
	}
	return p
}

func createNodes(ctx context.Context, b *testing.B, cs kubernetes.Interface, n int) {
	capacity := v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("32Gi"), v1.ResourcePods: resource.MustParse("110")}
	parallel(ctx, b, n, func(i int) error {
		name := fmt.Sprintf("node-%05d", i)
		_, err := cs.CoreV1().Nodes().Create(ctx, &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.LabelHostname: name, v1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%10)}},
			Status: v1.NodeStatus{Capacity: capacity, Allocatable: capacity,
				Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
		}, metav1.CreateOptions{})
		return err
	})
}

func parallel(ctx context.Context, b *testing.B, n int, do func(int) error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recordMetrics reads the recording profile's decision-record counters and
// gauges, by name. One call gathers the whole registry, the in-process API
// server's metrics included, which costs about 12 ms of CPU: callers poll
// sparingly, since run charges that CPU to the recording profile.
func recordMetrics(b *testing.B) map[string]float64 {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "placement_decision_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "profile" && l.GetValue() == recording {
					out[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func last(xs []float64) float64 { return xs[len(xs)-1] }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
