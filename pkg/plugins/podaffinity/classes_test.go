package podaffinity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// TestAlikeNamespacesShareViews: pods of two namespaces that every existing
// term answers alike are answered from one view, and pods of namespaces told
// apart are not; either way the counts equal a fresh plugin's.
func TestAlikeNamespacesShareViews(t *testing.T) {
	prod, dev := map[string]string{"env": "prod"}, map[string]string{"env": "dev"}
	namespaces := map[string]map[string]string{"a": prod, "b": prod, "c": dev, "d": nil}
	tests := []struct {
		name string
		// The existing pods (in a) carry one term with these namespace fields.
		termNamespaces []string
		nsSelector     *metav1.LabelSelector
		preferred      bool
		// A pod of namespace from is queried twice (its view is kept), then
		// one of namespace to.
		from, to string
		shared   bool
	}{
		{name: "both named", termNamespaces: []string{"a", "b"}, from: "a", to: "b", shared: true},
		{name: "one of two named", termNamespaces: []string{"a"}, from: "a", to: "b"},
		{name: "own namespace only", from: "a", to: "b"},
		{name: "neither named", from: "c", to: "d", shared: true},
		{name: "selector, same labels", nsSelector: &metav1.LabelSelector{MatchLabels: prod}, from: "a", to: "b", shared: true},
		{name: "selector, other labels", nsSelector: &metav1.LabelSelector{MatchLabels: prod}, from: "a", to: "c"},
		{name: "selector, one without the label", nsSelector: &metav1.LabelSelector{MatchLabels: dev}, from: "c", to: "d"},
		{name: "selector, everything", nsSelector: &metav1.LabelSelector{}, from: "a", to: "d", shared: true},
		{name: "selector or named", termNamespaces: []string{"d"}, nsSelector: &metav1.LabelSelector{MatchLabels: prod}, from: "a", to: "c"},
		{name: "named, selector elsewhere", termNamespaces: []string{"d"}, nsSelector: &metav1.LabelSelector{MatchLabels: prod}, from: "c", to: "d"},
		{name: "preferred, both named", termNamespaces: []string{"a", "b"}, preferred: true, from: "a", to: "b", shared: true},
		{name: "preferred, one named", termNamespaces: []string{"b"}, preferred: true, from: "a", to: "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := plugintest.NewLiveCluster(t)
			for _, name := range slices.Sorted(maps.Keys(namespaces)) {
				c.SetNamespace(t, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: namespaces[name]}})
			}
			nodes := plugintest.BenchNodes(6)
			for _, n := range nodes {
				c.Cache.AddNode(c.Logger, n)
			}
			term := v1.PodAffinityTerm{
				LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				TopologyKey:       v1.LabelHostname,
				Namespaces:        tc.termNamespaces,
				NamespaceSelector: tc.nsSelector,
			}
			for i, n := range nodes[:3] {
				p := st.MakePod().Namespace("a").Name(fmt.Sprintf("existing-%d", i)).UID(fmt.Sprintf("existing-%d", i)).
					Label("app", "web").Node(n.Name).Obj()
				if tc.preferred {
					p.Spec.Affinity = &v1.Affinity{PodAffinity: &v1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{Weight: 5, PodAffinityTerm: term}}}}
				} else {
					p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}}
				}
				if err := c.Cache.AddPod(c.Logger, p); err != nil {
					t.Fatal(err)
				}
			}
			infos := c.Cycle(t)
			cached, err := NewWithArgs(c.Handle, Args{})
			if err != nil {
				t.Fatal(err)
			}
			incoming := func(ns, name string) *v1.Pod {
				return st.MakePod().Namespace(ns).Name(name).UID(name).Label("app", "web").Obj()
			}
			ctx := context.Background()
			for i := range 2 {
				cycle(ctx, t, cached, incoming(tc.from, fmt.Sprintf("warm-%d", i)), infos)
			}
			before := indexKeys(cached.index)
			pod := incoming(tc.to, "measured")
			filtered, scores := cycle(ctx, t, cached, pod, infos)
			if after := indexKeys(cached.index); after.Equal(before) != tc.shared {
				t.Errorf("a pod of %s after pods of %s: new index keys %q; want shared %v", tc.to, tc.from, sets.List(after.Difference(before)), tc.shared)
			}
			fresh, err := NewWithArgs(c.Handle, Args{})
			if err != nil {
				t.Fatal(err)
			}
			wantFiltered, wantScores := cycle(ctx, t, fresh, pod, infos)
			if diff := plugintest.DiffVerdicts(wantFiltered, filtered, infos); diff != "" {
				t.Errorf("Filter, kept views vs a fresh plugin: %s", diff)
			}
			if !slices.Equal(wantScores, scores) {
				t.Errorf("scores, kept views vs a fresh plugin: %v, want %v", scores, wantScores)
			}
		})
	}
}

// cycle runs PreFilter and Filter on every node, then PreScore and Score.
func cycle(ctx context.Context, t *testing.T, pl *PodAffinity, pod *v1.Pod, nodes []fwk.NodeInfo) (plugintest.Verdict, []int64) {
	t.Helper()
	verdict, _ := plugintest.Filter(ctx, pl, pod, nodes)
	scores, s := plugintest.Score(ctx, pl, pod, nodes)
	if !s.IsSuccess() {
		t.Fatalf("Score: %s", plugintest.Describe(s))
	}
	return verdict, scores
}

// indexKeys returns the keys the index holds: kept views and keys seen once.
// A query answered from a kept view adds none.
func indexKeys(x *index) sets.Set[string] {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := sets.KeySet(x.views)
	out.Insert(sets.List(sets.KeySet(x.seen))...)
	return out.Insert(sets.List(sets.KeySet(x.seenBefore))...)
}
