package podaffinity_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// TestPodGroupCycleCountsAfresh: in a pod group's scheduling cycle the
// scheduler assumes the group's pods into the snapshot keeping the nodes'
// generations, so the index cannot see them; the plugin must count afresh
// and reject the node a member of the group took.
func TestPodGroupCycleCountsAfresh(t *testing.T) {
	c := plugintest.NewLiveCluster(t)
	for _, n := range testNodes() {
		c.Cache.AddNode(c.Logger, n)
	}
	nodes := c.Cycle(t)
	pl, err := podaffinity.NewWithArgs(c.Handle, podaffinity.Args{})
	if err != nil {
		t.Fatal(err)
	}
	member := func(name string) *v1.Pod {
		return withTerm(pod(name, "gang").Obj(), true, "gang", v1.LabelHostname, nil, nil)
	}
	ctx := context.Background()
	// Two ordinary cycles: the queries are kept from then on.
	for range 2 {
		if _, s := pl.PreFilter(ctx, plugintest.NewCycleState(), member("probe"), nodes); !s.IsSuccess() {
			t.Fatal(plugintest.Describe(s))
		}
	}
	first := member("first")
	first.Spec.NodeName = nodes[0].Node().Name
	info, err := framework.NewPodInfo(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot.AssumePod(info); err != nil {
		t.Fatal(err)
	}
	cs := framework.NewCycleState()
	cs.SetPodGroupSchedulingCycle(framework.NewCycleState())
	second := member("second")
	if _, s := pl.PreFilter(ctx, cs, second, nodes); !s.IsSuccess() {
		t.Fatal(plugintest.Describe(s))
	}
	if s := pl.Filter(ctx, cs, second, nodes[0]); s.Code() != fwk.Unschedulable || s.Message() != podaffinity.ErrReasonAntiAffinity {
		t.Errorf("node %s, where the first member is assumed: %s; want %q", nodes[0].Node().Name, plugintest.Describe(s), podaffinity.ErrReasonAntiAffinity)
	}
	if s := pl.Filter(ctx, cs, second, nodes[1]); !s.IsSuccess() {
		t.Errorf("node %s: %s; want it feasible", nodes[1].Node().Name, plugintest.Describe(s))
	}
}
