package bench

import (
	"context"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-base/metrics/testutil"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
)

// cpuSeconds holds CPUMetric, from 0.1 ms to about 9 s; the report reads
// its mean, which does not depend on the buckets.
var cpuSeconds = benchHistogram(CPUMetric,
	"CPU time of the benchmark process between consecutive scheduling cycles of pods in a namespace.",
	100e-6, "namespace")

// cpuProbe is a PreFilter plugin that decides nothing: at each pod's cycle it
// reads the process's CPU time and records how much was spent since the
// previous cycle of a pod in the same namespace. The mean over a namespace's
// pods is the process's CPU per pod while they were scheduled, whatever
// profile schedules them. A pod that needs a second attempt counts twice;
// every pod of the benchmark's workloads is placed at its first.
type cpuProbe struct {
	mu   sync.Mutex
	last map[string]time.Duration // per namespace, the CPU time at its last cycle
}

func newCPUProbe(context.Context, runtime.Object, fwk.Handle) (fwk.Plugin, error) {
	return &cpuProbe{last: map[string]time.Duration{}}, nil
}

func (*cpuProbe) Name() string { return CPUProbe }

func (p *cpuProbe) PreFilter(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	now, err := processCPU()
	if err != nil {
		return nil, fwk.AsStatus(err)
	}
	p.mu.Lock()
	prev, seen := p.last[pod.Namespace]
	p.last[pod.Namespace] = now
	p.mu.Unlock()
	if seen {
		cpuSeconds.WithLabelValues(pod.Namespace).Observe((now - prev).Seconds())
	}
	return nil, nil
}

func (*cpuProbe) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// processCPU is the user and system CPU time of every thread of the process.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func TestCPUProbeRecordsCPUNotWallTime(t *testing.T) {
	p, _ := newCPUProbe(context.Background(), nil, nil)
	probe := p.(*cpuProbe)
	cycle := func(ns string) {
		t.Helper()
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}}
		if res, status := probe.PreFilter(context.Background(), nil, pod, nil); res != nil || !status.IsSuccess() {
			t.Fatalf("PreFilter = %v, %v; the probe must decide nothing", res, status)
		}
	}
	histogram := func(ns string) (count uint64, sum float64) {
		t.Helper()
		h := cpuSeconds.WithLabelValues(ns)
		count, err := testutil.GetHistogramMetricCount(h)
		if err == nil {
			sum, err = testutil.GetHistogramMetricValue(h)
		}
		if err != nil {
			t.Fatal(err)
		}
		return count, sum
	}

	cycle("cpu-a")
	if count, _ := histogram("cpu-a"); count != 0 {
		t.Fatalf("first pod of a namespace: %d observations, want 0 (nothing to measure from)", count)
	}
	const burn = 50 * time.Millisecond
	for start, _ := processCPU(); ; {
		if now, _ := processCPU(); now-start >= burn {
			break
		}
	}
	cycle("cpu-b") // another namespace's pod: its own first, no observation
	cycle("cpu-a")
	count, sum := histogram("cpu-a")
	if count != 1 || sum < burn.Seconds() {
		t.Errorf("after burning %v of CPU: %d observations summing %.3fs, want 1 of at least %.3fs", burn, count, sum, burn.Seconds())
	}
	if count, _ := histogram("cpu-b"); count != 0 {
		t.Errorf("namespace cpu-b: %d observations after its first pod, want 0", count)
	}

	const sleep = 300 * time.Millisecond
	time.Sleep(sleep)
	cycle("cpu-a")
	count, after := histogram("cpu-a")
	if slept := after - sum; count != 2 || slept >= sleep.Seconds()/2 {
		t.Errorf("after sleeping %v: %d observations, the last %.3fs; want 2, the last well under the wall time", sleep, count, slept)
	}
}

func TestEveryProfileRunsTheCPUProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	registry, err := benchRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile string
		config  []byte
		plugin  string // one of the profile's own, to show the probe is beside them
	}{
		{Default, defaultConfig(t), "InterPodAffinity"},
		{Placement, placementConfig(t), "PlacementPodAffinity"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			obj, _, err := scheme.Codecs.UniversalDecoder().Decode(tc.config, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := obj.(*config.KubeSchedulerConfiguration)
			if len(cfg.Profiles) != 1 {
				t.Fatalf("%d profiles, want 1", len(cfg.Profiles))
			}
			fw := newFramework(ctx, t, &cfg.Profiles[0], registry, internalcache.NewEmptySnapshot())
			var preFilter []string
			for _, p := range fw.ListPlugins().PreFilter.Enabled {
				preFilter = append(preFilter, p.Name)
			}
			if !slices.Contains(preFilter, CPUProbe) || !slices.Contains(preFilter, tc.plugin) {
				t.Errorf("PreFilter plugins %v, want %s beside %s", preFilter, CPUProbe, tc.plugin)
			}
		})
	}
}
