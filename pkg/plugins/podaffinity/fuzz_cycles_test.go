package podaffinity

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodeinfo"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// FuzzPodAffinityCycles reaches the state kept across cycles, which the
// per-input FuzzPodAffinity cannot: each input seeds a cluster that changes
// (pods added, relabelled, removed, assumed; nodes added, relabelled,
// removed; namespaces relabelled) before each of 2 to 9 cycles, and after
// every cycle, and after AddPod/RemovePod on cloned states, the plugin kept
// across them must agree with a fresh plugin and the in-tree one. Then a
// NodeInfo without a Node must be rejected, and the namespace hint must take
// whatever Namespace object an informer delivers.
func FuzzPodAffinityCycles(f *testing.F) {
	for _, seed := range []int64{1, 2, 3, 42, 1 << 40} {
		f.Add(seed, uint8(seed))
	}
	f.Fuzz(func(t *testing.T, seed int64, cycles uint8) {
		pl := driveCycles(t, seed, 2+int(cycles%8))
		ctx := context.Background()
		g := plugintest.NewGen(seed)
		pod := g.AffinityPod("late", 0.9)
		nodes, err := pl.snapshot.NodeInfos().List()
		if err != nil {
			t.Fatal(err)
		}
		state := framework.NewCycleState()
		if _, st := pl.PreFilter(ctx, state, pod, nodes); st.IsSuccess() {
			if st := pl.Filter(ctx, state, pod, framework.NewNodeInfo()); st.Code() != fwk.UnschedulableAndUnresolvable || st.Reasons()[0] != nodeinfo.ErrReasonNodeUnknown {
				t.Errorf("Filter on a NodeInfo without a Node: %s", plugintest.Describe(st))
			}
		}
		events, err := pl.EventsToRegister(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Event.Resource != NamespaceResource {
				continue
			}
			for _, ns := range g.Namespaces() {
				typed := ns.DeepCopy()
				u := &unstructured.Unstructured{}
				u.SetAPIVersion("v1")
				u.SetKind("Namespace")
				u.SetName(ns.Name)
				u.SetLabels(ns.Labels)
				u.SetResourceVersion(ns.ResourceVersion)
				for _, pair := range [][2]any{{nil, u}, {u, u}, {typed, u}, {u, nil}, {nil, typed}, {&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, u}} {
					// An error is an acceptable answer; a panic is not.
					_, _ = e.QueueingHintFn(klog.Background(), pod, pair[0], pair[1])
				}
			}
		}
	})
}
