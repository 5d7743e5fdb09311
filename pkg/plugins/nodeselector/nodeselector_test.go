package nodeselector_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

func TestFilter(t *testing.T) {
	node := st.MakeNode().Name("n1").Label("zone", "z1").Label("disk", "ssd").Obj()
	tests := []struct {
		name     string
		selector map[string]string
		wantSkip bool
		want     fwk.Code
	}{
		{name: "no selector skips", selector: nil, wantSkip: true},
		{name: "empty selector matches", selector: map[string]string{}, want: fwk.Success},
		{name: "one label matches", selector: map[string]string{"zone": "z1"}, want: fwk.Success},
		{name: "all labels must match", selector: map[string]string{"zone": "z1", "disk": "hdd"}, want: fwk.UnschedulableAndUnresolvable},
		{name: "missing label", selector: map[string]string{"gpu": "true"}, want: fwk.UnschedulableAndUnresolvable},
		{name: "empty value needs the label with an empty value", selector: map[string]string{"disk": ""}, want: fwk.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cluster := plugintest.NewCluster(t, nil, []*v1.Node{node}, nil)
			pl, err := nodeselector.New(ctx, nil, cluster.Handle)
			if err != nil {
				t.Fatal(err)
			}
			pod := st.MakePod().Name("p").NodeSelector(tt.selector).Obj()
			v, _ := plugintest.Filter(ctx, pl.(fwk.FilterPlugin), pod, cluster.Nodes)
			if tt.wantSkip {
				if !v.PreFilter.IsSkip() {
					t.Fatalf("PreFilter = %s, want Skip", plugintest.Describe(v.PreFilter))
				}
				return
			}
			got := v.Nodes[0]
			if got.Code() != tt.want {
				t.Fatalf("Filter = %s, want code %s", plugintest.Describe(got), tt.want)
			}
			if !got.IsSuccess() && got.Reasons()[0] != nodeselector.ErrReason {
				t.Errorf("reason %q, want %q", got.Reasons()[0], nodeselector.ErrReason)
			}
			// Filter alone (no PreFilter state) must reach the same verdict.
			if alone := pl.(fwk.FilterPlugin).Filter(ctx, plugintest.NewCycleState(), pod, cluster.Nodes[0]); alone.Code() != tt.want {
				t.Errorf("Filter without PreFilter = %s, want code %s", plugintest.Describe(alone), tt.want)
			}
		})
	}
}

func TestQueueingHint(t *testing.T) {
	pod := st.MakePod().Name("p").NodeSelector(map[string]string{"zone": "z1"}).Obj()
	plain := st.MakeNode().Name("n").Obj()
	labelled := st.MakeNode().Name("n").Label("zone", "z1").Obj()
	other := st.MakeNode().Name("n").Label("zone", "z2").Obj()
	tests := []struct {
		name     string
		old, new *v1.Node
		want     fwk.QueueingHint
	}{
		{name: "matching node added", new: labelled, want: fwk.Queue},
		{name: "non-matching node added", new: other, want: fwk.QueueSkip},
		{name: "label added", old: plain, new: labelled, want: fwk.Queue},
		{name: "label changed to another value", old: labelled, new: other, want: fwk.QueueSkip},
		{name: "already matched", old: labelled, new: labelled, want: fwk.QueueSkip},
	}
	ctx := context.Background()
	pl, _ := nodeselector.New(ctx, nil, nil)
	events, err := pl.(fwk.EnqueueExtensions).EventsToRegister(ctx)
	if err != nil || len(events) != 1 {
		t.Fatalf("EventsToRegister = %v, %v", events, err)
	}
	hint := events[0].QueueingHintFn
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugintest.ExpectHint(t, hint, pod, tt.old, tt.new, tt.want)
		})
	}
}
