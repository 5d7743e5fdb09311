package podaffinity

import (
	"context"
	"fmt"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// TestConcurrentCycles runs, for one cycle's state, Filter and Score on every
// node and preemption's AddPod/RemovePod on clones of the state, all at once
// and at the same time as the next cycle's PreFilter and PreScore, which
// refresh the shared index. Under -race (make test) any unsynchronised access
// to the index or to published counts fails it; without -race it still checks
// that the answers read concurrently are the ones read alone.
func TestConcurrentCycles(t *testing.T) {
	g := plugintest.NewGen(plugintest.Seed(t))
	ctx := context.Background()
	s := newLiveState(t, g, 6)
	c := s.c
	pl, err := NewWithArgs(c.Handle, Args{})
	if err != nil {
		t.Fatal(err)
	}
	for step := range 40 {
		for range 3 {
			s.mutate()
		}
		nodes := c.Cycle(t)
		pod := g.AffinityPod(fmt.Sprintf("a%d", step), 0.9)
		next := g.AffinityPod(fmt.Sprintf("b%d", step), 0.9)
		state := framework.NewCycleState()
		if _, st := pl.PreFilter(ctx, state, pod, nodes); !st.IsSuccess() && !st.IsSkip() {
			t.Fatalf("PreFilter: %s", plugintest.Describe(st))
		}
		filtered := state.Clone()
		preScore := pl.PreScore(ctx, state, pod, nodes)
		alone := verdicts(ctx, pl, filtered, pod, nodes)

		var wg sync.WaitGroup
		var mu sync.Mutex
		var together []*fwk.Status
		wg.Go(func() { // the next cycle
			ns := framework.NewCycleState()
			pl.PreFilter(ctx, ns, next, nodes)
			pl.PreScore(ctx, ns, next, nodes)
		})
		wg.Go(func() {
			v := verdicts(ctx, pl, filtered, pod, nodes)
			mu.Lock()
			together = v
			mu.Unlock()
		})
		if preScore.IsSuccess() {
			wg.Go(func() {
				for _, ni := range nodes {
					pl.Score(ctx, state, pod, ni)
				}
			})
		}
		for k := range 4 {
			change, ni := s.preemptionChange(nodes)
			info, err := framework.NewPodInfo(change.pod)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				clone := filtered.Clone()
				if k%2 == 0 {
					pl.AddPod(ctx, clone, pod, info, ni)
				} else {
					pl.RemovePod(ctx, clone, pod, info, ni)
				}
				verdicts(ctx, pl, clone, pod, nodes)
			})
		}
		wg.Wait()
		for i := range nodes {
			if alone[i].Code() != together[i].Code() {
				t.Fatalf("step %d, node %s: %s alone, %s while other cycles ran", step, nodes[i].Node().Name, plugintest.Describe(alone[i]), plugintest.Describe(together[i]))
			}
		}
	}
}

// verdicts runs Filter on every node; nil state means PreFilter skipped.
func verdicts(ctx context.Context, pl *PodAffinity, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) []*fwk.Status {
	out := make([]*fwk.Status, len(nodes))
	if _, err := state.Read(filterKey); err != nil {
		return out
	}
	for i, ni := range nodes {
		out[i] = pl.Filter(ctx, state, pod, ni)
	}
	return out
}
