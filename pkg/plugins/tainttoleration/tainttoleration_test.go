package tainttoleration_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

func taint(key, value string, effect v1.TaintEffect) v1.Taint {
	return v1.Taint{Key: key, Value: value, Effect: effect}
}

func newPlugin(t *testing.T) *tainttoleration.TaintToleration {
	pl, err := tainttoleration.New(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pl.(*tainttoleration.TaintToleration)
}

func TestFilter(t *testing.T) {
	noSchedule := taint("dedicated", "gpu", v1.TaintEffectNoSchedule)
	tests := []struct {
		name        string
		taints      []v1.Taint
		tolerations []v1.Toleration
		want        bool
	}{
		{name: "no taints", want: true},
		{name: "untolerated NoSchedule", taints: []v1.Taint{noSchedule}, want: false},
		{name: "untolerated NoExecute", taints: []v1.Taint{taint("k", "v", v1.TaintEffectNoExecute)}, want: false},
		{name: "PreferNoSchedule never filters", taints: []v1.Taint{taint("k", "v", v1.TaintEffectPreferNoSchedule)}, want: true},
		{name: "Equal with key, value and effect", taints: []v1.Taint{noSchedule},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "gpu", Effect: v1.TaintEffectNoSchedule}}, want: true},
		{name: "Equal with another value", taints: []v1.Taint{noSchedule},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "cpu", Effect: v1.TaintEffectNoSchedule}}, want: false},
		{name: "empty operator means Equal", taints: []v1.Taint{noSchedule},
			tolerations: []v1.Toleration{{Key: "dedicated", Value: "gpu"}}, want: true},
		{name: "Exists on the key", taints: []v1.Taint{noSchedule},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}, want: true},
		{name: "empty key with Exists tolerates everything", taints: []v1.Taint{noSchedule, taint("x", "", v1.TaintEffectNoExecute)},
			tolerations: []v1.Toleration{{Operator: v1.TolerationOpExists}}, want: true},
		{name: "empty effect matches every effect", taints: []v1.Taint{taint("dedicated", "gpu", v1.TaintEffectNoExecute)},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}, want: true},
		{name: "toleration of another effect", taints: []v1.Taint{noSchedule},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}}, want: false},
		{name: "every blocking taint must be tolerated", taints: []v1.Taint{noSchedule, taint("other", "", v1.TaintEffectNoSchedule)},
			tolerations: []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := st.MakeNode().Name("n").Taints(tt.taints).Obj()
			cluster := plugintest.NewCluster(t, nil, []*v1.Node{node}, nil)
			pod := st.MakePod().Name("p").Obj()
			pod.Spec.Tolerations = tt.tolerations
			v, _ := plugintest.Filter(context.Background(), newPlugin(t), pod, cluster.Nodes)
			plugintest.ExpectVerdict(t, v.At(0), tt.want, tainttoleration.ErrReason)
		})
	}
}

// TestScore: fewer untolerated PreferNoSchedule taints score higher; only
// tolerations with PreferNoSchedule or no effect count.
func TestScore(t *testing.T) {
	prefer := func(k string) v1.Taint { return taint(k, "", v1.TaintEffectPreferNoSchedule) }
	nodes := []*v1.Node{
		st.MakeNode().Name("clean").Obj(),
		st.MakeNode().Name("one").Taints([]v1.Taint{prefer("a")}).Obj(),
		st.MakeNode().Name("two").Taints([]v1.Taint{prefer("a"), prefer("b")}).Obj(),
		st.MakeNode().Name("hard").Taints([]v1.Taint{taint("a", "", v1.TaintEffectNoSchedule)}).Obj(),
	}
	tests := []struct {
		name        string
		tolerations []v1.Toleration
		want        map[string]int64
	}{
		{name: "no tolerations", want: map[string]int64{"clean": 100, "one": 50, "two": 0, "hard": 100}},
		{name: "tolerating a", tolerations: []v1.Toleration{{Key: "a", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectPreferNoSchedule}},
			want: map[string]int64{"clean": 100, "one": 100, "two": 0, "hard": 100}},
		{name: "a NoSchedule toleration does not count", tolerations: []v1.Toleration{{Key: "a", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}},
			want: map[string]int64{"clean": 100, "one": 50, "two": 0, "hard": 100}},
		{name: "tolerating everything", tolerations: []v1.Toleration{{Operator: v1.TolerationOpExists}},
			want: map[string]int64{"clean": 100, "one": 100, "two": 100, "hard": 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster := plugintest.NewCluster(t, nil, nodes, nil)
			pod := st.MakePod().Name("p").Obj()
			pod.Spec.Tolerations = tt.tolerations
			scores, status := plugintest.Score(context.Background(), newPlugin(t), pod, cluster.Nodes)
			if got := plugintest.ByName(cluster.Nodes, scores); !status.IsSuccess() || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("scores = %v %s, want %v", got, plugintest.Describe(status), tt.want)
			}
		})
	}
}

func TestQueueingHints(t *testing.T) {
	pod := st.MakePod().Name("p").Obj()
	blocked := st.MakeNode().Name("n").Taints([]v1.Taint{taint("k", "", v1.TaintEffectNoSchedule)}).Obj()
	soft := st.MakeNode().Name("n").Taints([]v1.Taint{taint("k", "", v1.TaintEffectPreferNoSchedule)}).Obj()
	clean := st.MakeNode().Name("n").Obj()
	tests := []struct {
		name     string
		old, new *v1.Node
		want     fwk.QueueingHint
	}{
		{name: "clean node added", new: clean, want: fwk.Queue},
		{name: "tainted node added", new: blocked, want: fwk.QueueSkip},
		{name: "taint removed", old: blocked, new: clean, want: fwk.Queue},
		{name: "taint softened to PreferNoSchedule", old: blocked, new: soft, want: fwk.Queue},
		{name: "taint added", old: clean, new: blocked, want: fwk.QueueSkip},
		{name: "no blocking taint before either", old: soft, new: clean, want: fwk.QueueSkip},
	}
	logger, ctx := ktesting.NewTestContext(t)
	pl := newPlugin(t)
	events, _ := pl.EventsToRegister(ctx)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plugintest.ExpectHint(t, events[0].QueueingHintFn, pod, tt.old, tt.new, tt.want)
		})
	}
	if got, _ := events[1].QueueingHintFn(logger, pod, pod, pod); events[1].Event.Resource != fwk.TargetPod || got != fwk.Queue {
		t.Errorf("a new toleration on the pod: event %v hint %v, want TargetPod and Queue", events[1].Event, got)
	}
}
