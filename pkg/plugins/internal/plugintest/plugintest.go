// Package plugintest runs scheduling plugins outside a scheduler, the way the
// framework would within one cycle, so unit, differential and fuzz tests of
// every plugin share one harness.
package plugintest

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"
)

// Cluster is a snapshot of nodes and pods with a framework handle over it.
type Cluster struct {
	Handle fwk.Handle
	Nodes  []fwk.NodeInfo
}

// NewCluster builds a handle whose snapshot holds pods and nodes and whose
// namespace lister serves namespaces.
func NewCluster(tb testing.TB, pods []*v1.Pod, nodes []*v1.Node, namespaces []*v1.Namespace) *Cluster {
	tb.Helper()
	// The framework starts a metrics flusher that lives as long as ctx.
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	c, err := newCluster(ctx, pods, nodes, namespaces)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func newCluster(ctx context.Context, pods []*v1.Pod, nodes []*v1.Node, namespaces []*v1.Namespace) (*Cluster, error) {
	// The framework's parallelizer reports to scheduler metrics, which must exist.
	metrics.Register()
	snapshot := internalcache.NewSnapshot(pods, nodes)
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	// Filling the indexer directly avoids starting informers in every case.
	nsIndexer := factory.Core().V1().Namespaces().Informer().GetIndexer()
	for _, ns := range namespaces {
		if err := nsIndexer.Add(ns); err != nil {
			return nil, err
		}
	}
	fw, err := frameworkruntime.NewFramework(ctx, nil, &config.KubeSchedulerProfile{SchedulerName: "test"},
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithInformerFactory(factory),
	)
	if err != nil {
		return nil, fmt.Errorf("building framework: %w", err)
	}
	infos, err := snapshot.NodeInfos().List()
	if err != nil {
		return nil, err
	}
	return &Cluster{Handle: fw, Nodes: infos}, nil
}

// NewCycleState returns an empty cycle state.
func NewCycleState() fwk.CycleState { return framework.NewCycleState() }

// Verdict is the outcome of PreFilter and Filter for one pod.
type Verdict struct {
	PreFilter *fwk.Status
	Result    *fwk.PreFilterResult
	// Nodes holds one Filter status per node of the cluster (nil: passes);
	// empty when PreFilter rejected the pod or returned Skip.
	Nodes []*fwk.Status
}

// Filter runs PreFilter (when pl has it) and then Filter on every node, as one
// cycle does. A Skip from PreFilter means Filter does not run.
func Filter(ctx context.Context, pl fwk.FilterPlugin, pod *v1.Pod, nodes []fwk.NodeInfo) (Verdict, fwk.CycleState) {
	var v Verdict
	state := NewCycleState()
	if pre, ok := pl.(fwk.PreFilterPlugin); ok {
		v.Result, v.PreFilter = pre.PreFilter(ctx, state, pod, nodes)
		if !v.PreFilter.IsSuccess() {
			return v, state
		}
	}
	v.Nodes = make([]*fwk.Status, len(nodes))
	for i, n := range nodes {
		v.Nodes[i] = pl.Filter(ctx, state, pod, n)
	}
	return v, state
}

// Score runs PreScore (when pl has it), Score on every node and
// NormalizeScore, and returns the normalized scores. A Skip from PreScore
// leaves every score at 0, as the framework does.
func Score(ctx context.Context, pl fwk.ScorePlugin, pod *v1.Pod, nodes []fwk.NodeInfo) ([]int64, *fwk.Status) {
	state := NewCycleState()
	if pre, ok := pl.(fwk.PreScorePlugin); ok {
		s := pre.PreScore(ctx, state, pod, nodes)
		if s.IsSkip() {
			return make([]int64, len(nodes)), nil
		}
		if !s.IsSuccess() {
			return nil, s
		}
	}
	list := make(fwk.NodeScoreList, len(nodes))
	for i, n := range nodes {
		score, s := pl.Score(ctx, state, pod, n)
		if !s.IsSuccess() {
			return nil, s
		}
		list[i] = fwk.NodeScore{Name: n.Node().Name, Score: score}
	}
	if ext := pl.ScoreExtensions(); ext != nil {
		if s := ext.NormalizeScore(ctx, state, pod, list); !s.IsSuccess() {
			return nil, s
		}
	}
	out := make([]int64, len(list))
	for i := range list {
		out[i] = list[i].Score
	}
	return out, nil
}

// Describe renders a status for comparisons and failure messages.
func Describe(s *fwk.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return fmt.Sprintf("%s%q", s.Code(), s.Reasons())
}

// DiffVerdicts compares what the framework acts on: a PreFilter rejection,
// the PreFilter node set, and each node's Filter code and reasons (after a
// PreFilter Skip every node passes). It returns "" when they agree.
func DiffVerdicts(want, got Verdict, nodes []fwk.NodeInfo) string {
	if rejected(want.PreFilter) || rejected(got.PreFilter) {
		if Describe(want.PreFilter) != Describe(got.PreFilter) {
			return fmt.Sprintf("PreFilter: in-tree %s, ours %s", Describe(want.PreFilter), Describe(got.PreFilter))
		}
		return ""
	}
	if w, g := resultNames(want.Result), resultNames(got.Result); fmt.Sprint(w) != fmt.Sprint(g) {
		return fmt.Sprintf("PreFilterResult: in-tree %v, ours %v", w, g)
	}
	for i, n := range nodes {
		if w, g := Describe(want.At(i)), Describe(got.At(i)); w != g {
			return fmt.Sprintf("node %s: in-tree %s, ours %s", n.Node().Name, w, g)
		}
	}
	return ""
}

// DiffScores compares two Score results; "" when they agree.
func DiffScores(want []int64, wantStatus *fwk.Status, got []int64, gotStatus *fwk.Status) string {
	w, g := fmt.Sprint(want, " ", Describe(wantStatus)), fmt.Sprint(got, " ", Describe(gotStatus))
	if w == g {
		return ""
	}
	return fmt.Sprintf("scores: in-tree %s, ours %s", w, g)
}

// At is node i's Filter status; nil (success) when Filter did not run.
func (v Verdict) At(i int) *fwk.Status {
	if len(v.Nodes) == 0 {
		return nil
	}
	return v.Nodes[i]
}

func rejected(s *fwk.Status) bool { return !s.IsSuccess() && !s.IsSkip() }

func resultNames(r *fwk.PreFilterResult) []string {
	if r == nil || r.AllNodes() {
		return nil
	}
	return sets.List(r.NodeNames)
}

// ByName pairs per-node results with node names, since a snapshot lists
// nodes in no fixed order.
func ByName(nodes []fwk.NodeInfo, scores []int64) map[string]int64 {
	out := make(map[string]int64, len(nodes))
	for i, n := range nodes {
		if i < len(scores) {
			out[n.Node().Name] = scores[i]
		}
	}
	return out
}
