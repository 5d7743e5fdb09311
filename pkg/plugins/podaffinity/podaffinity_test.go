package podaffinity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"
)

// TestIndexFlatUnderUniqueChurn: pods whose own labels existing selectors
// name make a new query each; none is kept, so however many come the index
// holds what it held before them.
func TestIndexFlatUnderUniqueChurn(t *testing.T) {
	churn(t, 5000, 10, 1000, func(done int, pl *PodAffinity) {
		stats := pl.index.Stats()
		entries := 0
		for _, v := range stats.Views {
			entries += v.Entries
		}
		if entries != stats.Entries {
			t.Errorf("after %d pods: the index accounts %d entries, its views %d", done, stats.Entries, entries)
		}
		// Only the selector-keys query repeats; every other is one pod's.
		if len(stats.Views) > 1 {
			t.Errorf("after %d pods: %d views, want only the selector keys' (%d bytes of keys)", done, len(stats.Views), len(fmt.Sprint(stats.Views)))
		}
	})
}

// BenchmarkIndexChurn reports the heap PlacementPodAffinity and the cache
// hold after 100,000 and after 1,000,000 pods with unique labels replaced
// one another (a cycle for every hundredth, 10,000 in all): flat means the
// index does not grow with the pods it has seen. go test -run '^$' -bench IndexChurn -benchtime 1x ./pkg/plugins/podaffinity
func BenchmarkIndexChurn(b *testing.B) {
	for range b.N {
		var at100k int64
		churn(b, 1000000, 100, 100000, func(done int, pl *PodAffinity) {
			heap := liveHeap()
			switch done {
			case 100000:
				at100k = heap
			case 1000000:
				stats := pl.index.Stats()
				b.ReportMetric(mib(at100k), "MiB-at-100k")
				b.ReportMetric(mib(heap), "MiB-at-1M")
				b.ReportMetric(float64(len(stats.Views)), "views")
				b.ReportMetric(float64(stats.Entries), "entries")
			}
		})
	}
}

// TestStatefulPodsShareTheExistingAntiQuery: when only preferred terms name
// the pods' own label, the Filter side's query of existing pods' required
// anti-affinity is the same for every such pod, and so is kept and reused.
func TestStatefulPodsShareTheExistingAntiQuery(t *testing.T) {
	c, ns := plugintest.NewRealisticCluster(t, 20, 200, 10)
	stateful := func(i int, node string) *v1.Pod {
		p := statefulPod(i, node)
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, TopologyKey: v1.LabelHostname,
			}},
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: statefulPod(i, node).Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]}},
		}
		return p
	}
	for i := range 5 {
		if err := c.Cache.AddPod(c.Logger, stateful(i, ns[i].Name)); err != nil {
			t.Fatal(err)
		}
	}
	pl, err := NewWithArgs(c.Handle, Args{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 10; i++ {
		incoming := stateful(i, "")
		runCycle(context.Background(), t, pl, incoming, c.Cycle(t))
	}
	existingAnti := 0
	for _, v := range pl.index.Stats().Views {
		if strings.HasPrefix(v.Key, "existing-anti") {
			existingAnti++
			if v.NodesReused == 0 {
				t.Errorf("the existing-anti view was kept but never reused")
			}
		}
	}
	if existingAnti != 1 {
		t.Errorf("%d existing-anti views, want the one all five pods share", existingAnti)
	}
}

// TestIndexEqualsFreshCount: a plugin that lives across cycles (and so reuses
// its index) must hold, at the start of every cycle and after AddPod and
// RemovePod, exactly the counts and weights that a new plugin computes from
// the snapshot alone, and reach the same verdicts and scores as the in-tree
// plugin. The cluster changes between cycles the ways the scheduler's cache
// does: nodes added, relabelled and removed; pods added, relabelled, removed,
// assumed and forgotten; namespace labels changed.
func TestIndexEqualsFreshCount(t *testing.T) {
	opts, totalsRead := churnOptions(), 0
	opts.totalsRead = &totalsRead
	cached := driveCyclesWith(t, plugintest.Seed(t), indexSteps, opts)
	if totalsRead == 0 {
		t.Fatal("Filter read no node totals: the test did not exercise them")
	}
	stats := cached.index.Stats()
	reused, podsReused := 0, 0
	for _, v := range stats.Views {
		reused += v.NodesReused
		podsReused += v.PodsReused
	}
	if reused == 0 || podsReused == 0 {
		t.Fatalf("the index kept %d nodes' and %d pods' shares: the test did not exercise it", reused, podsReused)
	}
	t.Logf("%d views, %d node shares and %d pod shares reused, %d node totals checked", len(stats.Views), reused, podsReused, totalsRead)
}

// TestIndexEqualsFreshCountStableNodes is TestIndexEqualsFreshCount with a
// node list that seldom changes and many pod shapes, as in a large cluster:
// views then follow the feed's log over long runs, and a view idle for longer
// than the log reaches back must compare every node itself.
func TestIndexEqualsFreshCountStableNodes(t *testing.T) {
	longest := 0
	observe := func(pl *PodAffinity) { longest = max(longest, pl.index.Stats().LoggedScans) }
	driveCyclesWith(t, plugintest.Seed(t), indexSteps, cycleOptions{nodes: 60, shapes: 40, observe: observe})
	if longest != counting.FeedScans {
		t.Fatalf("the feed logged at most %d scans, never %d: the test did not exercise its log", longest, counting.FeedScans)
	}
}

// TestIndexEqualsFreshCountWideDomains is TestIndexEqualsFreshCount on
// enough nodes that domains hold more than counting.WideAt of them: totals then keep
// those domains' sums apart (wide cells), through nodes added, relabelled and
// removed.
func TestIndexEqualsFreshCountWideDomains(t *testing.T) {
	wide := 0
	observe := func(pl *PodAffinity) {
		for _, v := range pl.index.Stats().Views {
			if v.WideSums > 0 {
				wide++
			}
		}
	}
	driveCyclesWith(t, plugintest.Seed(t), indexSteps/3, cycleOptions{nodes: 8 * counting.WideAt, shapes: 20, nodeChurn: 0.05, observe: observe})
	if wide == 0 {
		t.Fatal("no view had a wide cell with a non-zero sum: the test did not exercise them")
	}
}

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

// TestNoWalkWithoutTerms: where no pod has inter-pod terms (most clusters),
// a pod without terms costs no walk of the nodes: both PreFilter and
// PreScore skip before the index is asked.
func TestNoWalkWithoutTerms(t *testing.T) {
	c := plugintest.NewLiveCluster(t)
	ns := plugintest.BenchNodes(20)
	for _, n := range ns {
		c.Cache.AddNode(c.Logger, n)
	}
	for _, p := range plugintest.BenchPods(100, 5, ns, false) {
		if err := c.Cache.AddPod(c.Logger, p); err != nil {
			t.Fatal(err)
		}
	}
	nodes := c.Cycle(t)
	pl, err := NewWithArgs(c.Handle, Args{})
	if err != nil {
		t.Fatal(err)
	}
	plain := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "default", UID: "plain", Labels: map[string]string{"app": "web"}}}
	ctx, cs := context.Background(), framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, cs, plain, nodes); !s.IsSkip() {
		t.Errorf("PreFilter: %v, want Skip", s)
	}
	if s := pl.PreScore(ctx, cs, plain, nodes); !s.IsSkip() {
		t.Errorf("PreScore: %v, want Skip", s)
	}
	if scans := pl.index.Stats().Scans; scans != 0 {
		t.Errorf("the nodes were walked %d times, want none", scans)
	}
}
