package podaffinity

import (
	"context"
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// smallCluster is 20 nodes holding 200 realistic pods.
func smallCluster(t testing.TB) (*plugintest.LiveCluster, []fwk.NodeInfo) {
	c, _ := memoryCluster(t, 20, 200, 10)
	return c, c.Cycle(t)
}

// recountEntries sums the views' entries from their slots.
func recountEntries(x *index) int {
	n := 0
	for _, v := range x.views {
		for i := range v.slots {
			n += len(v.slots[i].shares) + len(v.slots[i].pods)
		}
	}
	return n
}

func checkAccounting(t *testing.T, x *index) {
	t.Helper()
	if got := recountEntries(x); got != x.entries {
		t.Errorf("index accounts %d entries, its views hold %d", x.entries, got)
	}
	if len(x.views) > maxViews {
		t.Errorf("%d views, at most %d", len(x.views), maxViews)
	}
	if len(x.views) > 1 && x.entries > budgetViews*x.largest() {
		t.Errorf("%d entries in %d views, over %d × the largest (%d)", x.entries, len(x.views), budgetViews, x.largest())
	}
}

// TestIndexKeepsRepeatedQueriesOnly: a key is kept from its second query
// on; a query seen once is answered the same and leaves nothing behind.
func TestIndexKeepsRepeatedQueriesOnly(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := newIndex()
	x.scan(nodes)
	first := x.query(ctx, p, "a", nodes, selectorKeyShares)
	if len(x.views) != 0 || x.entries != 0 {
		t.Fatalf("after one query: %d views, %d entries; want none kept", len(x.views), x.entries)
	}
	second := x.query(ctx, p, "a", nodes, selectorKeyShares)
	if len(x.views) != 1 || x.entries == 0 {
		t.Fatalf("after the second query: %d views, %d entries; want one view", len(x.views), x.entries)
	}
	if a, b := newLayered(first, nil).materialize(), newLayered(second, nil).materialize(); fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprint(first.keys) != fmt.Sprint(second.keys) {
		t.Errorf("once %v %v, kept %v %v", a, first.keys, b, second.keys)
	}
	for i := range 3 * seenLimit {
		x.query(ctx, p, fmt.Sprintf("once-%d", i), nodes, selectorKeyShares)
	}
	if len(x.views) != 1 {
		t.Errorf("%d views after %d one-off queries, want the one kept view", len(x.views), 3*seenLimit)
	}
	if len(x.seen)+len(x.seenBefore) > 2*seenLimit {
		t.Errorf("%d keys remembered as seen once, at most %d", len(x.seen)+len(x.seenBefore), 2*seenLimit)
	}
	checkAccounting(t, x)
}

// TestIndexDropsIdleViews: a view nobody asks for goes, with what it holds.
func TestIndexDropsIdleViews(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := newIndex()
	x.scan(nodes)
	for _, key := range []string{"idle", "idle", "busy"} {
		x.query(ctx, p, key, nodes, selectorKeyShares)
	}
	for range idleQueries + sweepEvery {
		x.query(ctx, p, "busy", nodes, selectorKeyShares)
	}
	if _, ok := x.views["idle"]; ok || len(x.views) != 1 {
		t.Errorf("views %v after %d queries of another key; want only busy", keysOf(x.views), idleQueries+sweepEvery)
	}
	checkAccounting(t, x)
}

// TestIndexBudget: many kept queries of the same size stay within
// budgetViews of them, the least recently used going first.
func TestIndexBudget(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := newIndex()
	x.scan(nodes)
	for i := range 3 * budgetViews {
		key := fmt.Sprintf("shape-%d", i)
		x.query(ctx, p, key, nodes, selectorKeyShares)
		x.query(ctx, p, key, nodes, selectorKeyShares)
		checkAccounting(t, x)
	}
	if len(x.views) != budgetViews {
		t.Errorf("%d views of equal size, want %d", len(x.views), budgetViews)
	}
	if _, ok := x.views[fmt.Sprintf("shape-%d", 3*budgetViews-1)]; !ok {
		t.Errorf("the newest view was dropped: %v", keysOf(x.views))
	}
}

func keysOf(m map[string]*view) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// statefulPod is the i-th pod of a StatefulSet-like workload: a label of its
// own, and required anti-affinity on that label's key, so that every
// incoming pod is a query of its own.
func statefulPod(i int, node string) *v1.Pod {
	name := fmt.Sprintf("db-%d", i)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name), Labels: map[string]string{
			"app": "db", "statefulset.kubernetes.io/pod-name": name,
		}},
		Spec: v1.PodSpec{NodeName: node, Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: "statefulset.kubernetes.io/pod-name", Operator: metav1.LabelSelectorOpIn, Values: []string{name},
				}}},
				TopologyKey: v1.LabelHostname,
			}},
		}}},
	}
}

// churn replaces pods one by one with pods of unique labels, running a
// cycle for every cycleEvery-th incoming pod, and calls check every
// checkEvery pods.
func churn(tb testing.TB, pods, cycleEvery, checkEvery int, check func(done int, pl *PodAffinity)) {
	c, ns := memoryCluster(tb, 50, 1000, 10)
	pl, err := NewWithArgs(c.Handle, Args{})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	// The 200 newest churned pods stay; each new one replaces the oldest.
	live := make([]*v1.Pod, 200)
	for i := range pods {
		if old := live[i%len(live)]; old != nil {
			if err := c.Cache.RemovePod(c.Logger, old); err != nil {
				tb.Fatal(err)
			}
		}
		p := statefulPod(i, ns[i%len(ns)].Name)
		if i%cycleEvery == 0 {
			incoming := p.DeepCopy()
			incoming.Spec.NodeName = ""
			runCycle(ctx, tb, pl, incoming, c.Cycle(tb))
		}
		if err := c.Cache.AddPod(c.Logger, p); err != nil {
			tb.Fatal(err)
		}
		live[i%len(live)] = p
		if (i+1)%checkEvery == 0 {
			c.Cycle(tb)
			check(i+1, pl)
		}
	}
}

// TestIndexFlatUnderUniqueChurn: pods whose own labels existing selectors
// name make a new query each; none is kept, so however many come the index
// holds what it held before them.
func TestIndexFlatUnderUniqueChurn(t *testing.T) {
	churn(t, 5000, 10, 1000, func(done int, pl *PodAffinity) {
		pl.index.mu.Lock()
		defer pl.index.mu.Unlock()
		checkAccounting(t, pl.index)
		// Only the selector-keys query repeats; every other is one pod's.
		if len(pl.index.views) > 1 {
			t.Errorf("after %d pods: %d views, want only the selector keys' (%d bytes of keys)", done, len(pl.index.views), len(fmt.Sprint(keysOf(pl.index.views))))
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
				views, entries := pl.index.size()
				b.ReportMetric(mib(at100k), "MiB-at-100k")
				b.ReportMetric(mib(heap), "MiB-at-1M")
				b.ReportMetric(float64(views), "views")
				b.ReportMetric(float64(entries), "entries")
			}
		})
	}
}

// TestStatefulPodsShareTheExistingAntiQuery: when only preferred terms name
// the pods' own label, the Filter side's query of existing pods' required
// anti-affinity is the same for every such pod, and so is kept and reused.
func TestStatefulPodsShareTheExistingAntiQuery(t *testing.T) {
	c, ns := memoryCluster(t, 20, 200, 10)
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
	for k, v := range pl.index.views {
		if strings.HasPrefix(k, "existing-anti") {
			existingAnti++
			if v.reused == 0 {
				t.Errorf("the existing-anti view was kept but never reused")
			}
		}
	}
	if existingAnti != 1 {
		t.Errorf("%d existing-anti views, want the one all five pods share", existingAnti)
	}
}
