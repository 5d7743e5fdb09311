package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// cycleSeconds starts at 10µs and ends at about 0.9 s.
var cycleSeconds = benchHistogram(CycleMetric,
	"Duration of every PreFilter and PreScore call of PlacementPodAffinity, by extension point and the pod's namespace.",
	10e-6, "extension_point", "namespace")

// benchHistogram registers a histogram of seconds whose 52 buckets are 25%
// apart from first, so a percentile read from it is within a bucket's width
// of the true one.
func benchHistogram(name, help string, first float64, labels ...string) *metrics.HistogramVec {
	h := metrics.NewHistogramVec(&metrics.HistogramOpts{
		Name:           name,
		Help:           help,
		Buckets:        metrics.ExponentialBuckets(first, 1.25, 52),
		StabilityLevel: metrics.ALPHA,
	}, labels)
	legacyregistry.MustRegister(h)
	return h
}

// timedPodAffinity is PlacementPodAffinity with its once-per-cycle calls
// timed. Embedding the plugin keeps every interface it implements, so the
// framework calls it at the same extension points.
type timedPodAffinity struct {
	*podaffinity.PodAffinity
}

func (t *timedPodAffinity) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	start := time.Now()
	res, status := t.PodAffinity.PreFilter(ctx, cs, pod, nodes)
	cycleSeconds.WithLabelValues("PreFilter", pod.Namespace).Observe(time.Since(start).Seconds())
	return res, status
}

func (t *timedPodAffinity) PreScore(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) *fwk.Status {
	start := time.Now()
	status := t.PodAffinity.PreScore(ctx, cs, pod, nodes)
	cycleSeconds.WithLabelValues("PreScore", pod.Namespace).Observe(time.Since(start).Seconds())
	return status
}

// timed returns registry with PlacementPodAffinity's factory wrapped so that
// each plugin it makes is timed.
func timed(registry frameworkruntime.Registry) (frameworkruntime.Registry, error) {
	factory, ok := registry[podaffinity.Name]
	if !ok {
		return nil, fmt.Errorf("the registry has no %s", podaffinity.Name)
	}
	registry[podaffinity.Name] = func(ctx context.Context, args runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
		p, err := factory(ctx, args, h)
		if err != nil {
			return nil, err
		}
		pl, ok := p.(*podaffinity.PodAffinity)
		if !ok {
			return nil, fmt.Errorf("%s's factory made a %T", podaffinity.Name, p)
		}
		return &timedPodAffinity{pl}, nil
	}
	return registry, nil
}

// newFramework builds profile from the in-tree plugins and ours, over
// snapshot.
func newFramework(ctx context.Context, t *testing.T, profile *config.KubeSchedulerProfile, ours frameworkruntime.Registry, snapshot *internalcache.Snapshot) framework.Framework {
	t.Helper()
	schedmetrics.Register() // the framework counts into the scheduler's metrics
	registry := frameworkplugins.NewInTreeRegistry()
	if err := registry.Merge(ours); err != nil {
		t.Fatal(err)
	}
	fw, err := frameworkruntime.NewFramework(ctx, registry, profile,
		frameworkruntime.WithClientSet(fake.NewClientset()),
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(fake.NewClientset(), 0)))
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

// measuredNamespaces are the namespaces of a test case's pods that
// scheduler_perf measures (createPods with collectMetrics).
func measuredNamespaces(tc map[string]any) []string {
	var out []string
	ops, _ := tc["workloadTemplate"].([]any)
	for _, op := range ops {
		o, _ := op.(map[string]any)
		if o["opcode"] != "createPods" || o["collectMetrics"] != true {
			continue
		}
		if ns, ok := o["namespace"].(string); ok && !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return out
}

func TestTimedKeepsExtensionPointsAndTimesEveryCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes := []*v1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{v1.LabelHostname: "a"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{v1.LabelHostname: "b"}}},
	}
	existing := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "timed", Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{NodeName: "a"}}
	term := v1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, TopologyKey: v1.LabelHostname}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "timed", Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution:  []v1.PodAffinityTerm{term},
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: term}},
		}}}}
	// A framework needs a queue sort and a bind plugin: the in-tree ones.
	profile := &config.KubeSchedulerProfile{SchedulerName: "test", Plugins: &config.Plugins{
		QueueSort:  config.PluginSet{Enabled: []config.Plugin{{Name: queuesort.Name}}},
		Bind:       config.PluginSet{Enabled: []config.Plugin{{Name: defaultbinder.Name}}},
		MultiPoint: config.PluginSet{Enabled: []config.Plugin{{Name: podaffinity.Name}}},
	}}
	newFramework := func(ours frameworkruntime.Registry) framework.Framework {
		return newFramework(ctx, t, profile, ours, internalcache.NewSnapshot([]*v1.Pod{existing}, nodes))
	}
	registry, err := timed(plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	fw := newFramework(registry)
	if diff := cmp.Diff(newFramework(plugins.Registry()).ListPlugins(), fw.ListPlugins()); diff != "" {
		t.Errorf("the timed plugin runs at other extension points than the plugin (-plugin +timed):\n%s", diff)
	}

	count := func(point string) uint64 {
		t.Helper()
		n, err := testutil.GetHistogramMetricCount(cycleSeconds.WithLabelValues(point, "timed"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	preFilter, preScore := count("PreFilter"), count("PreScore")
	state := framework.NewCycleState()
	if _, status, _ := fw.RunPreFilterPlugins(ctx, state, pod); !status.IsSuccess() {
		t.Fatalf("PreFilter: %v", status)
	}
	infos, err := fw.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		t.Fatal(err)
	}
	a, err := fw.SnapshotSharedLister().NodeInfos().Get("a")
	if err != nil {
		t.Fatal(err)
	}
	if status := fw.RunFilterPlugins(ctx, state, pod, a); status.Code() != fwk.Unschedulable {
		t.Errorf("Filter on node a, which holds a pod the incoming one repels: %v, want Unschedulable", status)
	}
	if status := fw.RunPreScorePlugins(ctx, state, pod, infos); !status.IsSuccess() {
		t.Fatalf("PreScore: %v", status)
	}
	if got := count("PreFilter") - preFilter; got != 1 {
		t.Errorf("PreFilter observations = %d, want 1", got)
	}
	if got := count("PreScore") - preScore; got != 1 {
		t.Errorf("PreScore observations = %d, want 1", got)
	}
}

func TestMeasuredNamespaces(t *testing.T) {
	cases, err := readWorkloads()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		// Every workload measures the pods it creates in sched-1, after
		// existing pods in sched-0.
		if got := measuredNamespaces(tc); !slices.Equal(got, []string{"sched-1"}) {
			t.Errorf("%s: measured namespaces %v, want [sched-1]", tc["name"], got)
		}
	}
	tc := map[string]any{"workloadTemplate": []any{
		map[string]any{"opcode": "createPods", "namespace": "init"},
		map[string]any{"opcode": "createPods", "namespace": "b", "collectMetrics": true},
		map[string]any{"opcode": "createPods", "namespace": "a", "collectMetrics": true},
		map[string]any{"opcode": "createPods", "namespace": "a", "collectMetrics": true},
	}}
	if got := measuredNamespaces(tc); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("measured namespaces %v, want [a b]", got)
	}
}
