package plugins_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// TestNodeInfoWithoutNode: every plugin of ours, at every extension point
// that takes a NodeInfo, answers one without a Node with
// UnschedulableAndUnresolvable instead of panicking. The pod carries a rule
// for every plugin, so that none skips the point under test.
func TestNodeInfoWithoutNode(t *testing.T) {
	app := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	pod := st.MakePod().Name("p").Namespace("default").Label("app", "web").
		Node("n1").
		NodeSelector(map[string]string{"zone": "a"}).
		NodeAffinityIn("zone", []string{"a"}, st.NodeSelectorTypeMatchExpressions).
		Toleration("dedicated").
		PodAffinity(v1.LabelHostname, app, st.PodAffinityWithRequiredReq).
		PodAntiAffinity(v1.LabelHostname, app, st.PodAntiAffinityWithPreferredReq).
		Obj()
	pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []v1.PreferredSchedulingTerm{{
		Weight: 1, Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}},
	}}
	node := st.MakeNode().Name("n1").Label("zone", "a").Label(v1.LabelHostname, "n1").
		Taints([]v1.Taint{{Key: "soft", Effect: v1.TaintEffectPreferNoSchedule}}).Obj()
	existing := st.MakePod().Name("e").Namespace("default").Label("app", "web").Node("n1").Obj()
	cluster := plugintest.NewCluster(t, []*v1.Pod{existing}, []*v1.Node{node}, nil)
	empty := framework.NewNodeInfo()
	podInfo, err := framework.NewPodInfo(existing)
	if err != nil {
		t.Fatal(err)
	}

	for name, factory := range plugins.Registry() {
		if name == decisions.Name {
			// PostBind only: it is given a node name, never a NodeInfo.
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			pl, err := factory(ctx, nil, cluster.Handle)
			if err != nil {
				t.Fatal(err)
			}
			state := framework.NewCycleState()
			checked := 0
			if p, ok := pl.(fwk.PreFilterPlugin); ok {
				if _, s := p.PreFilter(ctx, state, pod, cluster.Nodes); !s.IsSuccess() {
					t.Fatalf("PreFilter: %s; the pod must give every plugin something to filter", plugintest.Describe(s))
				}
				if ext := p.PreFilterExtensions(); ext != nil {
					wantUnknown(t, "AddPod", ext.AddPod(ctx, state.Clone(), pod, podInfo, empty))
					wantUnknown(t, "RemovePod", ext.RemovePod(ctx, state.Clone(), pod, podInfo, empty))
					checked += 2
				}
			}
			if p, ok := pl.(fwk.FilterPlugin); ok {
				wantUnknown(t, "Filter", p.Filter(ctx, state, pod, empty))
				checked++
			}
			if p, ok := pl.(fwk.ScorePlugin); ok {
				if pre, ok := pl.(fwk.PreScorePlugin); ok {
					if s := pre.PreScore(ctx, state, pod, cluster.Nodes); !s.IsSuccess() {
						t.Fatalf("PreScore: %s; the pod must give every plugin something to score", plugintest.Describe(s))
					}
				}
				_, s := p.Score(ctx, state, pod, empty)
				wantUnknown(t, "Score", s)
				checked++
			}
			if checked == 0 {
				t.Fatal("the plugin has no extension point that takes a NodeInfo; the test checks nothing")
			}
		})
	}
}

func wantUnknown(t *testing.T, point string, s *fwk.Status) {
	t.Helper()
	if s.Code() != fwk.UnschedulableAndUnresolvable || len(s.Reasons()) != 1 || s.Reasons()[0] != nodeinfo.ErrReasonNodeUnknown {
		t.Errorf("%s on a NodeInfo without a Node: %s, want UnschedulableAndUnresolvable %q", point, plugintest.Describe(s), nodeinfo.ErrReasonNodeUnknown)
	}
}
