package podaffinity

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// BenchmarkRetainedHeap reports what PlacementPodAffinity keeps between
// cycles at Kubernetes' supported limits (5,000 nodes, 150,000 pods of a
// realistic size), beside the heap of the scheduler cache itself and what the
// in-tree plugin keeps (its state lives in the cycle). Incoming pods come in
// 64 shapes (a Deployment each), each three times, with one pod bound after
// every cycle. go test -run '^$' -bench RetainedHeap -benchtime 1x ./pkg/plugins/podaffinity
func BenchmarkRetainedHeap(b *testing.B) {
	const nodes, pods, apps, shapes = 5000, 150000, 500, 64
	for range b.N {
		base := liveHeap()
		c, ns := plugintest.NewRealisticCluster(b, nodes, pods, apps)
		c.Cycle(b)
		cacheHeap := liveHeap() - base
		ctx := context.Background()
		next := pods
		retained := func(pl cyclePlugins) int64 {
			for round := range 3 {
				for k := range shapes {
					pod := plugintest.RealisticPod(k, apps, "")
					pod.Name, pod.UID = fmt.Sprintf("incoming-%d-%d", round, k), types.UID(fmt.Sprintf("incoming-%d-%d-%d", round, k, next))
					runCycle(ctx, b, pl, pod, c.Cycle(b))
					bound := plugintest.RealisticPod(next, apps, ns[next%nodes].Name)
					if err := c.Cache.AddPod(c.Logger, bound); err != nil {
						b.Fatal(err)
					}
					next++
				}
			}
			c.Cycle(b)
			with := liveHeap()
			runtime.KeepAlive(pl)
			return with
		}
		ours, err := NewWithArgs(c.Handle, Args{})
		if err != nil {
			b.Fatal(err)
		}
		withOurs := retained(ours)
		stats := ours.index.Stats()
		views, entries := len(stats.Views), stats.Entries
		ours = nil
		oursHeap := withOurs - liveHeap()
		inTree, err := upstream.New(ctx, &config.InterPodAffinityArgs{HardPodAffinityWeight: 1}, c.Handle, plugintest.InTreeFeatures())
		if err != nil {
			b.Fatal(err)
		}
		withInTree := retained(inTree.(cyclePlugins))
		inTree = nil
		inTreeHeap := withInTree - liveHeap()
		b.ReportMetric(mib(cacheHeap), "MiB-cache")
		b.ReportMetric(mib(oursHeap), "MiB-ours")
		b.ReportMetric(mib(inTreeHeap), "MiB-intree")
		b.ReportMetric(100*float64(oursHeap)/float64(cacheHeap), "%-of-cache")
		b.ReportMetric(float64(views), "views")
		b.ReportMetric(float64(entries), "entries")
	}
}
