package podaffinity_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/metrics/legacyregistry"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// scaleGroups is how many groups the pods of BenchmarkPodAffinityScale form:
// with hostname anti-affinity a node holds one pod of each.
const scaleGroups = 4

// scaleShapes are the terms every pod of BenchmarkPodAffinityScale carries,
// against the pods of its own group.
var scaleShapes = []struct {
	name  string
	terms func(sel *metav1.LabelSelector) *v1.Affinity
}{
	{"anti-affinity-hostname", func(sel *metav1.LabelSelector) *v1.Affinity {
		return &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
			{LabelSelector: sel, TopologyKey: v1.LabelHostname},
		}}}
	}},
	{"affinity-zone", func(sel *metav1.LabelSelector) *v1.Affinity {
		return &v1.Affinity{PodAffinity: &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
			{LabelSelector: sel, TopologyKey: v1.LabelTopologyZone},
		}}}
	}},
	{"preferred-anti-affinity-hostname", func(sel *metav1.LabelSelector) *v1.Affinity {
		return &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{
			{Weight: 1, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: sel, TopologyKey: v1.LabelHostname}},
		}}}
	}},
}

// scalePod is pod i of a shape: in group i % scaleGroups, with the shape's
// terms against its group, on node (empty: not yet placed).
func scalePod(prefix string, i int, terms func(*metav1.LabelSelector) *v1.Affinity, node string) *v1.Pod {
	group := fmt.Sprintf("group-%d", i%scaleGroups)
	name := fmt.Sprintf("%s-%05d", prefix, i)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name), Labels: map[string]string{"color": group}},
		Spec: v1.PodSpec{
			NodeName: node,
			Affinity: terms(&metav1.LabelSelector{MatchLabels: map[string]string{"color": group}}),
		},
	}
}

// BenchmarkPodAffinityScale measures whole scheduling cycles at 5,000 nodes
// with 1,000, 5,000 and 10,000 existing pods that carry terms, as the
// scheduler runs them: the snapshot is refreshed, the plugin's PreFilter, its
// Filter on every node, PreScore and Score on the feasible nodes run, and the
// pod is bound to a feasible node, so the next cycle sees one more pod. It
// reports the mean and 99th percentile of PreFilter, Filter (all nodes) and PreScore per
// cycle: a plugin whose cycle does not grow with the existing pods shows the
// same figures at every size.
func BenchmarkPodAffinityScale(b *testing.B) {
	nodes := plugintest.BenchNodes(5000)
	for _, shape := range scaleShapes {
		for _, existing := range []int{1000, 5000, 10000} {
			for _, impl := range benchImpls {
				b.Run(fmt.Sprintf("%s/existing=%d/impl=%s", shape.name, existing, impl.Name), func(b *testing.B) {
					live := plugintest.NewLiveCluster(b)
					for _, n := range nodes {
						live.Cache.AddNode(live.Logger, n)
					}
					// 4999 and the group count are coprime, so pods sharing a
					// node are of different groups.
					for i := range existing {
						if err := live.Cache.AddPod(live.Logger, scalePod("existing", i, shape.terms, nodes[i%4999].Name)); err != nil {
							b.Fatal(err)
						}
					}
					runScaleCycles(b, live, impl.New(b, live.Handle), shape.terms)
				})
			}
		}
	}
}

func runScaleCycles(b *testing.B, live *plugintest.LiveCluster, pl fwk.Plugin, terms func(*metav1.LabelSelector) *v1.Affinity) {
	ctx := context.Background()
	pre, score := pl.(fwk.PreFilterPlugin), pl.(fwk.PreScorePlugin)
	filter, scorer := pl.(fwk.FilterPlugin), pl.(fwk.ScorePlugin)
	var preFilterTimes, filterTimes, preScoreTimes []time.Duration
	fresh := freshQueries(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		infos := live.Cycle(b)
		pod := scalePod("incoming", i, terms, "")
		cs := plugintest.NewCycleState()
		start := time.Now()
		_, s := pre.PreFilter(ctx, cs, pod, infos)
		preFilterTimes = append(preFilterTimes, time.Since(start))
		feasible := infos
		if s.IsSuccess() {
			feasible = nil
			start = time.Now()
			for _, ni := range infos {
				if filter.Filter(ctx, cs, pod, ni).IsSuccess() {
					feasible = append(feasible, ni)
				}
			}
			filterTimes = append(filterTimes, time.Since(start))
		} else if !s.IsSkip() {
			b.Fatal(plugintest.Describe(s))
		}
		if len(feasible) == 0 {
			b.Fatalf("cycle %d: no feasible node", i)
		}
		start = time.Now()
		s = score.PreScore(ctx, cs, pod, feasible)
		preScoreTimes = append(preScoreTimes, time.Since(start))
		if s.IsSuccess() {
			for _, ni := range feasible {
				if _, s := scorer.Score(ctx, cs, pod, ni); !s.IsSuccess() {
					b.Fatal(plugintest.Describe(s))
				}
			}
		} else if !s.IsSkip() {
			b.Fatal(plugintest.Describe(s))
		}
		// Spread the placements as the scheduler's balancing scores would.
		pod.Spec.NodeName = feasible[(i*7919)%len(feasible)].Node().Name
		if err := live.Cache.AddPod(live.Logger, pod); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportTimes(b, "PreFilter", preFilterTimes)
	reportTimes(b, "Filter", filterTimes)
	reportTimes(b, "PreScore", preScoreTimes)
	b.ReportMetric(float64(freshQueries(b)-fresh)/float64(i), "recounts/cycle")
}

// freshQueries is how many queries PlacementPodAffinity's index has answered
// by counting every node afresh (a query seen for the first or second time),
// from its metrics.
func freshQueries(b *testing.B) float64 {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	n := 0.0
	for _, f := range families {
		if f.GetName() != "placement_podaffinity_index_queries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() != "reused" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// reportTimes reports the mean and the 99th percentile of times, in µs.
func reportTimes(b *testing.B, name string, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	slices.Sort(times)
	b.ReportMetric(float64(sum.Microseconds())/float64(len(times)), name+"-µs/cycle")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), name+"-p99-µs")
}
