package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/schedulerprocess"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
)

// The scheduler's heap with decision recording on and off, in the filled
// cluster: the scheduler binary is started once per mode and round, with the
// deployable configuration or the same without PlacementDecisions, and each
// run lists the cluster, binds newPods new pods and, with recording on,
// writes their records; then its heap is read.

// newPods is how many pods each run binds: 1,000, or one for every other
// node of a small cluster (they keep to one a node).
func (s shape) newPods() int { return min(1000, s.nodes/2) }

// heapRun is one run of the scheduler binary once the new pods are bound,
// their records written and garbage collected once more: its live heap (as
// that collection found it: the heap in use swings with the collector's
// cycle by as much as the live heap itself), heap in use and resident set,
// medians of heapReads reads a second apart; and the records it wrote.
type heapRun struct {
	recording                bool
	heapLive, heapInuse, rss int64
	written                  int64
}

const heapReads = 5

const (
	metricHeapLive  = "go_gc_heap_live_bytes"
	metricHeapInuse = "go_memstats_heap_inuse_bytes"
	metricWritten   = "placement_decision_records_written_total"
	metricQueued    = "placement_decision_records_queued"
	metricGCs       = "go_gc_duration_seconds"
)

// measureHeap runs the scheduler o.rounds times in each mode, alternating
// which goes first.
func measureHeap(ctx context.Context, o options, s shape, cs kubernetes.Interface, kubeconfig string) ([]heapRun, error) {
	var runs []heapRun
	for round := range o.rounds {
		modes := []bool{false, true}
		if round%2 == 1 {
			modes = []bool{true, false}
		}
		for _, recording := range modes {
			r, err := heapOnce(ctx, o, s, cs, kubeconfig, recording, round)
			if err != nil {
				return nil, err
			}
			klog.FromContext(ctx).Info("Scheduler heap", "round", round+1, "recording", recording,
				"heapLive", r.heapLive, "heapInuse", r.heapInuse, "rss", r.rss, "written", r.written)
			runs = append(runs, r)
		}
	}
	return runs, nil
}

func heapOnce(ctx context.Context, o options, s shape, cs kubernetes.Interface, kubeconfig string, recording bool, round int) (heapRun, error) {
	run := heapRun{recording: recording}
	mode := map[bool]string{true: "on", false: "off"}[recording]
	dir := filepath.Join(o.out, fmt.Sprintf("scheduler-recording-%s-%d", mode, round+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return run, err
	}
	config, err := heapConfig(recording)
	if err != nil {
		return run, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := schedulerprocess.Start(runCtx, o.scheduler, dir, kubeconfig, config)
	if err != nil {
		return run, err
	}
	defer p.Stop()
	ns := fmt.Sprintf("heap-%s-%d", mode, round+1)
	if err := bindNewPods(ctx, cs, ns, s.newPods()); err != nil {
		return run, fmt.Errorf("recording %s: %w (log: %s)", mode, err, filepath.Join(dir, "scheduler.log"))
	}
	// The records are written behind the bindings: read the heap once all
	// are (the queue empty and a record counted for every new pod and every
	// pending one).
	if recording {
		want := int64(s.newPods() + pendingPods)
		err := wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
			g, err := scrape(ctx, p)
			return err == nil && g[metricQueued] == 0 && g[metricWritten] >= want, nil
		})
		if err != nil {
			return run, fmt.Errorf("waiting for the records to be written: %w", err)
		}
	}
	// The live heap is as the last collection found it, which may have run
	// while the cluster was listed: wait for one after the work (the
	// runtime forces one every two minutes at the latest).
	if err := waitForCollection(ctx, p); err != nil {
		return run, err
	}
	var live, inuse, rss []int64
	for i := range heapReads {
		if i > 0 {
			time.Sleep(time.Second)
		}
		g, err := scrape(ctx, p)
		if err != nil {
			return run, err
		}
		r, err := p.RSS()
		if err != nil {
			return run, err
		}
		live, inuse, rss = append(live, g[metricHeapLive]), append(inuse, g[metricHeapInuse]), append(rss, r)
		run.written = g[metricWritten]
	}
	run.heapLive, run.heapInuse, run.rss = median(live), median(inuse), median(rss)
	return run, deletePods(ctx, cs, ns)
}

// waitForCollection waits until the process has collected garbage once more.
func waitForCollection(ctx context.Context, p *schedulerprocess.Process) error {
	g, err := scrape(ctx, p)
	if err != nil {
		return err
	}
	before := g[metricGCs]
	return wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, false, func(ctx context.Context) (bool, error) {
		g, err := scrape(ctx, p)
		return err == nil && g[metricGCs] > before, nil
	})
}

func scrape(ctx context.Context, p *schedulerprocess.Process) (map[string]int64, error) {
	text, err := p.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	return schedulerprocess.Gauges(text, metricHeapLive, metricHeapInuse, metricWritten, metricQueued, metricGCs)
}

// heapConfig is the deployable configuration, without PlacementDecisions
// unless recording, and without leader election, so that each run starts
// scheduling at once.
func heapConfig(recording bool) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &doc); err != nil {
		return nil, err
	}
	doc["leaderElection"] = map[string]any{"leaderElect": false}
	if !recording {
		for _, p := range doc["profiles"].([]any) {
			localscheduler.DropMultiPointPlugin(p.(map[string]any), decisions.Name)
		}
	}
	return yaml.Marshal(doc)
}

// bindNewPods creates n pods of our scheduler in namespace ns, with hostname
// anti-affinity among themselves, and waits until all are bound.
func bindNewPods(ctx context.Context, cs kubernetes.Interface, ns string, n int) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": ns}}
	if err := parallel(ctx, n, func(i int) error {
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", ns, i), Namespace: ns, Labels: map[string]string{"app": ns}},
			Spec: v1.PodSpec{
				SchedulerName: ourScheduler,
				Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: selector, TopologyKey: v1.LabelHostname}},
				}},
				Containers: []v1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")},
				}}},
			},
		}
		_, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("creating pods: %w", err)
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName!=", ResourceVersion: "0"})
		return err == nil && len(list.Items) == n, nil
	})
}

// deletePods removes the run's pods at once (no kubelet runs them), so that
// every run meets the same cluster.
func deletePods(ctx context.Context, cs kubernetes.Interface, ns string) error {
	return cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{})
}
