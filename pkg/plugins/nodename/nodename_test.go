package nodename_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
)

func TestNodeName(t *testing.T) {
	nodes := []*v1.Node{st.MakeNode().Name("a").Obj(), st.MakeNode().Name("b").Obj()}
	tests := []struct {
		name      string
		nodeName  string
		wantNodes []string // nil: no narrowing
		wantPass  map[string]bool
	}{
		{name: "no nodeName: every node", wantPass: map[string]bool{"a": true, "b": true}},
		{name: "pinned to b", nodeName: "b", wantNodes: []string{"b"}, wantPass: map[string]bool{"a": false, "b": true}},
		{name: "pinned to an unknown node", nodeName: "c", wantNodes: []string{"c"}, wantPass: map[string]bool{"a": false, "b": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cluster := plugintest.NewCluster(t, nil, nodes, nil)
			pl, _ := nodename.New(ctx, nil, cluster.Handle)
			pod := st.MakePod().Name("p").Node(tt.nodeName).Obj()
			v, _ := plugintest.Filter(ctx, pl.(fwk.FilterPlugin), pod, cluster.Nodes)
			if tt.wantNodes == nil {
				if v.Result != nil {
					t.Errorf("PreFilterResult = %v, want none", v.Result)
				}
			} else if v.Result == nil || !v.Result.NodeNames.HasAll(tt.wantNodes...) || v.Result.NodeNames.Len() != len(tt.wantNodes) {
				t.Errorf("PreFilterResult = %v, want %v", v.Result, tt.wantNodes)
			}
			for i, n := range cluster.Nodes {
				pass := v.At(i).IsSuccess()
				if want := tt.wantPass[n.Node().Name]; pass != want {
					t.Errorf("node %s: %s, want pass=%v", n.Node().Name, plugintest.Describe(v.At(i)), want)
				}
				if !pass && (v.At(i).Code() != fwk.UnschedulableAndUnresolvable || v.At(i).Reasons()[0] != nodename.ErrReason) {
					t.Errorf("node %s: %s, want UnschedulableAndUnresolvable %q", n.Node().Name, plugintest.Describe(v.At(i)), nodename.ErrReason)
				}
			}
		})
	}
}
