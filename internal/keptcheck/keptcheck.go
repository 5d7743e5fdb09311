// Package keptcheck checks, inside a running scheduler, that the counts
// PlacementPodAffinity keeps across scheduling cycles equal a fresh count.
// Tests register the Checker's plugin in place of PlacementPodAffinity; for
// each pod labelled CheckLabel, the plugin first evaluates the pod twice over
// the cycle's own snapshot — with the instance the scheduler keeps and with
// a new instance that has counted nothing yet — and records any difference
// in Filter verdicts or normalized scores. The cycle then goes on through
// the kept instance, unchanged.
package keptcheck

import (
	"context"
	"fmt"
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// CheckLabel marks the pods to check (any value).
const CheckLabel = "keptcheck.placement.test/check"

// Checker collects the comparisons of every plugin instance it built.
type Checker struct {
	mu      sync.Mutex
	checked int
	diffs   []string
}

// Registry replaces PlacementPodAffinity's factory with the checking one.
func (c *Checker) Registry() frameworkruntime.Registry {
	return frameworkruntime.Registry{podaffinity.Name: c.factory}
}

// Result returns how many pods were checked and the differences found.
func (c *Checker) Result() (checked int, diffs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked, slices.Clone(c.diffs)
}

func (c *Checker) factory(ctx context.Context, args runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
	kept, err := podaffinity.New(ctx, args, h)
	if err != nil {
		return nil, err
	}
	return &checking{PodAffinity: kept.(*podaffinity.PodAffinity), args: args, handle: h, checker: c}, nil
}

// checking is PlacementPodAffinity with a check before PreFilter; embedding
// the plugin keeps every extension point it implements.
type checking struct {
	*podaffinity.PodAffinity
	args    runtime.Object
	handle  fwk.Handle
	checker *Checker
}

func (p *checking) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if _, ok := pod.Labels[CheckLabel]; ok {
		p.checker.record(pod, p.compare(ctx, pod, nodes))
	}
	return p.PodAffinity.PreFilter(ctx, cs, pod, nodes)
}

func (c *Checker) record(pod *v1.Pod, diffs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked++
	for _, d := range diffs {
		c.diffs = append(c.diffs, pod.Namespace+"/"+pod.Name+": "+d)
	}
}

// compare evaluates pod with the kept instance and a fresh one.
func (p *checking) compare(ctx context.Context, pod *v1.Pod, nodes []fwk.NodeInfo) []string {
	fresh, err := podaffinity.New(ctx, p.args, p.handle)
	if err != nil {
		return []string{fmt.Sprintf("building a fresh instance: %v", err)}
	}
	want := evaluate(ctx, fresh.(*podaffinity.PodAffinity), pod, nodes)
	got := evaluate(ctx, p.PodAffinity, pod, nodes)
	var diffs []string
	for i, n := range nodes {
		if got[i] != want[i] {
			diffs = append(diffs, fmt.Sprintf("node %s: kept counts give %s, a fresh count %s", n.Node().Name, got[i], want[i]))
		}
	}
	return diffs
}

// evaluate returns, per node, the Filter verdict and, for nodes that pass,
// the normalized score: what the framework acts on.
func evaluate(ctx context.Context, pl *podaffinity.PodAffinity, pod *v1.Pod, nodes []fwk.NodeInfo) []string {
	out := make([]string, len(nodes))
	state := framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, state, pod, nodes); !s.IsSuccess() {
		for i := range out {
			out[i] = "PreFilter " + describe(s)
		}
		return out
	}
	var feasible []fwk.NodeInfo
	for i, n := range nodes {
		s := pl.Filter(ctx, state, pod, n)
		out[i] = describe(s)
		if s.IsSuccess() {
			feasible = append(feasible, n)
		}
	}
	scores, err := score(ctx, pl, state, pod, feasible)
	if err != "" {
		for i := range out {
			out[i] += ", " + err
		}
		return out
	}
	for i, n := range nodes {
		if v, ok := scores[n.Node().Name]; ok {
			out[i] += fmt.Sprintf(", score %d", v)
		}
	}
	return out
}

func score(ctx context.Context, pl *podaffinity.PodAffinity, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (map[string]int64, string) {
	scores := map[string]int64{}
	if len(nodes) == 0 {
		return scores, ""
	}
	if s := pl.PreScore(ctx, state, pod, nodes); s.IsSkip() {
		return scores, ""
	} else if !s.IsSuccess() {
		return nil, "PreScore " + describe(s)
	}
	list := make(fwk.NodeScoreList, len(nodes))
	for i, n := range nodes {
		v, s := pl.Score(ctx, state, pod, n)
		if !s.IsSuccess() {
			return nil, "Score " + describe(s)
		}
		list[i] = fwk.NodeScore{Name: n.Node().Name, Score: v}
	}
	if s := pl.ScoreExtensions().NormalizeScore(ctx, state, pod, list); !s.IsSuccess() {
		return nil, "NormalizeScore " + describe(s)
	}
	for _, ns := range list {
		scores[ns.Name] = ns.Score
	}
	return scores, ""
}

func describe(s *fwk.Status) string {
	if s.IsSuccess() {
		return "Success"
	}
	return fmt.Sprintf("%s%q", s.Code(), s.Reasons())
}
