package podaffinity_test

import (
	"context"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// hints returns the plugin's queueing hint per event resource.
func hints(t *testing.T) map[fwk.EventResource]fwk.QueueingHintFn {
	t.Helper()
	_, out := pluginWithHints(t, plugintest.NewCluster(t, nil, testNodes(), testNamespaces()))
	return out
}

// pluginWithHints builds the plugin over cluster and returns it with its
// queueing hint per event resource.
func pluginWithHints(t *testing.T, cluster *plugintest.Cluster) (*podaffinity.PodAffinity, map[fwk.EventResource]fwk.QueueingHintFn) {
	t.Helper()
	pl, err := podaffinity.NewWithArgs(cluster.Handle, podaffinity.Args{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := pl.EventsToRegister(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[fwk.EventResource]fwk.QueueingHintFn{}
	for _, e := range events {
		out[e.Event.Resource] = e.QueueingHintFn
	}
	return pl, out
}

func expect(t *testing.T, hint fwk.QueueingHintFn, pod *v1.Pod, oldObj, newObj any, want fwk.QueueingHint) {
	t.Helper()
	got, err := hint(klog.Background(), pod, oldObj, newObj)
	if err != nil || got != want {
		t.Errorf("hint = %v, %v; want %v", got, err, want)
	}
}

func TestPodEventHints(t *testing.T) {
	hint := hints(t)[fwk.AssignedPod]
	wantsDB := withTerm(pod("p", "x").Obj(), false, "db", zone, nil, nil)
	avoidsDB := withTerm(pod("p", "x").Obj(), true, "db", zone, nil, nil)
	db := pod("db", "db").Node("n1").Obj()
	other := pod("o", "other").Node("n1").Obj()
	guard := withTerm(pod("guard", "guard").Node("n1").Obj(), true, "x", zone, nil, nil)
	tests := []struct {
		name           string
		pod            *v1.Pod
		oldObj, newObj *v1.Pod
		want           fwk.QueueingHint
	}{
		{"a pod satisfying the affinity is placed", wantsDB, nil, db, fwk.Queue},
		{"an unrelated pod is placed", wantsDB, nil, other, fwk.QueueSkip},
		{"a placed pod starts to satisfy the affinity", wantsDB, other, st.MakePod().Namespace("default").Name("o").Label("app", "db").Node("n1").Obj(), fwk.Queue},
		{"a pod the anti-affinity rejected goes", avoidsDB, db, nil, fwk.Queue},
		{"an unrelated pod goes", avoidsDB, other, nil, fwk.QueueSkip},
		{"a pod whose anti-affinity rejected the pod goes", pod("p", "x").Obj(), guard, nil, fwk.Queue},
		{"a pod stops matching the anti-affinity", avoidsDB, db, st.MakePod().Namespace("default").Name("db").Label("app", "gone").Node("n1").Obj(), fwk.Queue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var oldObj, newObj any
			if tc.oldObj != nil {
				oldObj = tc.oldObj
			}
			if tc.newObj != nil {
				newObj = tc.newObj
			}
			expect(t, hint, tc.pod, oldObj, newObj, tc.want)
		})
	}
}

func TestNodeEventHints(t *testing.T) {
	hint := hints(t)[fwk.Node]
	wantsDB := withTerm(pod("p", "x").Obj(), false, "db", zone, nil, nil)
	avoidsDB := withTerm(pod("p", "x").Obj(), true, "db", zone, nil, nil)
	zoned := st.MakeNode().Name("n9").Label(zone, "z9").Obj()
	bare := st.MakeNode().Name("n9").Obj()
	moved := st.MakeNode().Name("n9").Label(zone, "z8").Obj()
	relabelled := st.MakeNode().Name("n9").Label(zone, "z9").Label("disk", "ssd").Obj()
	plugintest.ExpectHint(t, hint, wantsDB, nil, zoned, fwk.Queue)
	plugintest.ExpectHint(t, hint, wantsDB, nil, bare, fwk.QueueSkip)
	plugintest.ExpectHint(t, hint, wantsDB, zoned, moved, fwk.Queue)
	plugintest.ExpectHint(t, hint, wantsDB, zoned, relabelled, fwk.QueueSkip)
	plugintest.ExpectHint(t, hint, avoidsDB, nil, bare, fwk.Queue)
	plugintest.ExpectHint(t, hint, avoidsDB, zoned, bare, fwk.Queue)
	plugintest.ExpectHint(t, hint, avoidsDB, zoned, relabelled, fwk.QueueSkip)
	// No node to read (the registered events always carry one): retry, never panic.
	plugintest.ExpectHint(t, hint, wantsDB, zoned, nil, fwk.Queue)
	plugintest.ExpectHint(t, hint, wantsDB, nil, nil, fwk.Queue)
}

func namespace(name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

func TestNamespaceEventHints(t *testing.T) {
	hint := hints(t)[podaffinity.NamespaceResource]
	if hint == nil {
		t.Fatalf("no hint registered for %s", podaffinity.NamespaceResource)
	}
	team := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}
	selecting := withTerm(pod("p", "x").Obj(), false, "db", zone, nil, team)
	plain := pod("p", "x").Obj()
	tests := []struct {
		name           string
		pod            *v1.Pod
		oldObj, newObj *unstructured.Unstructured
		want           fwk.QueueingHint
	}{
		{"a namespace starts to match the pod's namespaceSelector", selecting, namespace("t", nil), namespace("t", map[string]string{"team": "x"}), fwk.Queue},
		{"a namespace stops matching it", selecting, namespace("t", map[string]string{"team": "x"}), namespace("t", nil), fwk.Queue},
		{"a matching namespace is added", selecting, nil, namespace("t", map[string]string{"team": "x"}), fwk.Queue},
		{"a change that keeps the selection", selecting, namespace("t", map[string]string{"team": "x"}), namespace("t", map[string]string{"team": "x", "a": "b"}), fwk.QueueSkip},
		{"the pod's own namespace changes labels", plain, namespace("default", nil), namespace("default", map[string]string{"env": "x"}), fwk.Queue},
		{"another namespace, no selector", plain, namespace("t", nil), namespace("t", map[string]string{"team": "x"}), fwk.QueueSkip},
		{"no label change", selecting, namespace("t", map[string]string{"team": "x"}), namespace("t", map[string]string{"team": "x"}), fwk.QueueSkip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var oldObj any
			if tc.oldObj != nil {
				oldObj = tc.oldObj
			}
			expect(t, hint, tc.pod, oldObj, tc.newObj, tc.want)
		})
	}
}

// TestNamespaceEventAheadOfLister covers the race between the two namespace
// informers: the event that requeues a pod comes from the dynamic one, the
// labels the plugin matches come from the typed one. A pod retried on that
// event must see the new labels even while the typed lister is behind.
func TestNamespaceEventAheadOfLister(t *testing.T) {
	teamX := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-x", ResourceVersion: "7", Labels: map[string]string{"team": "x"}}}
	shared := pod("shared", "shared").Namespace("team-x").Node("n1").Obj()
	cluster := plugintest.NewCluster(t, []*v1.Pod{shared}, testNodes(), append(testNamespaces(), teamX))
	pl, hints := pluginWithHints(t, cluster)
	hint := hints[podaffinity.NamespaceResource]
	pending := withTerm(pod("p", "x").Obj(), false, "shared", zone, nil, &metav1.LabelSelector{MatchLabels: map[string]string{"team": "y"}})
	feasible := func() []string {
		t.Helper()
		v, _ := plugintest.Filter(context.Background(), pl, pending, cluster.Nodes)
		var names []string
		for i, n := range cluster.Nodes {
			if v.PreFilter.IsSuccess() && v.Nodes[i].IsSuccess() {
				names = append(names, n.Node().Name)
			}
		}
		// A snapshot built from a node list lists them in no fixed order.
		slices.Sort(names)
		return names
	}
	indexer := cluster.Handle.SharedInformerFactory().Core().V1().Namespaces().Informer().GetIndexer()
	relabel := func(rv, team string) *unstructured.Unstructured {
		u := namespace("team-x", map[string]string{"team": team})
		u.SetResourceVersion(rv)
		return u
	}
	listerSays := func(rv, team string) {
		ns := teamX.DeepCopy()
		ns.ResourceVersion, ns.Labels["team"] = rv, team
		if err := indexer.Update(ns); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"team-x is team x: nothing selected", func() {}, nil},
		{"the event says team y; the lister still says x", func() {
			expect(t, hint, pending, relabel("7", "x"), relabel("8", "y"), fwk.Queue)
		}, []string{"n1", "n2"}},
		{"the lister catches up", func() { listerSays("8", "y") }, []string{"n1", "n2"}},
		{"the lister moves past what the event said", func() { listerSays("9", "z") }, nil},
		{"an older event does not turn the clock back", func() {
			expect(t, hint, pending, relabel("7", "x"), relabel("8", "y"), fwk.Queue)
		}, nil},
	}
	for _, s := range steps {
		s.do()
		if got := feasible(); !slices.Equal(got, s.want) {
			t.Fatalf("%s: feasible %v, want %v", s.name, got, s.want)
		}
	}
}
