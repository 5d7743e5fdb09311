package podaffinity

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"
)

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
	c, ns := plugintest.NewRealisticCluster(tb, 50, 1000, 10)
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

// indexSteps is how many random cache changes, each followed by a cycle,
// TestIndexEqualsFreshCount makes.
const indexSteps = 3000

// uniqueKey is a label every incoming pod carries with its own value; a few
// existing pods select on it.
const uniqueKey = "signature"

// liveState mirrors what the test put into the scheduler cache.
type liveState struct {
	t       *testing.T
	g       plugintest.Gen
	c       *plugintest.LiveCluster
	nodes   map[string]*v1.Node
	pods    map[types.UID]*v1.Pod
	assumed map[types.UID]*v1.Pod
	next    int
	// nodeChurn is the chance that a change adds or removes a node.
	nodeChurn float64
	maxNodes  int
	// totalsRead counts the nodes whose kept totals were checked against
	// the domains (sameTotals).
	totalsRead int
}

// cycleOptions shape the cluster driveCyclesWith changes: how many pod
// shapes come back, and how often a change adds or removes a node.
type cycleOptions struct {
	// nodes is how many nodes the cluster starts with and holds at most
	// (4 and 10 when smaller).
	nodes     int
	shapes    int
	nodeChurn float64
	// observe, if set, sees the kept plugin after every cycle.
	observe func(*PodAffinity)
	// totalsRead, if set, receives how many node totals were checked.
	totalsRead *int
}

// driveCycles changes a live scheduler cache at random (from seed) before
// each of steps cycles, and compares the plugin kept across them with a fresh
// one and with the in-tree plugin after every cycle; it returns the kept one.
func driveCycles(t *testing.T, seed int64, steps int) *PodAffinity {
	return driveCyclesWith(t, seed, steps, churnOptions())
}

func churnOptions() cycleOptions { return cycleOptions{shapes: 6, nodeChurn: 0.2} }

func driveCyclesWith(t *testing.T, seed int64, steps int, opts cycleOptions) *PodAffinity {
	g := plugintest.NewGen(seed)
	ctx := context.Background()
	s := newLiveState(t, g, max(opts.nodes, 4))
	s.nodeChurn, s.maxNodes = opts.nodeChurn, max(opts.nodes, 10)
	c := s.c
	weight, ignore := int32(g.Intn(3)), g.Chance(0.2)
	args := Args{HardPodAffinityWeight: ptr.To(weight), IgnorePreferredTermsOfExistingPods: ignore}
	cached, err := NewWithArgs(c.Handle, args)
	if err != nil {
		t.Fatal(err)
	}
	oracle, err := upstream.New(ctx, &config.InterPodAffinityArgs{HardPodAffinityWeight: weight, IgnorePreferredTermsOfExistingPods: ignore}, c.Handle, plugintest.InTreeFeatures())
	if err != nil {
		t.Fatal(err)
	}
	// Replicas: a few pod shapes come back again and again, as in a cluster.
	shapes := make([]*v1.Pod, opts.shapes)
	for i := range shapes {
		shapes[i] = g.AffinityPod(fmt.Sprintf("shape%d", i), 0.8)
	}
	for step := range steps {
		for n := 1 + g.Intn(3); n > 0; n-- {
			s.mutate()
		}
		nodes := c.Cycle(t)
		// Every pod carries a label of its own, as StatefulSet pods do; it
		// matters only while some existing pod selects on it.
		pod := shapes[g.Intn(len(shapes))].DeepCopy()
		if g.Chance(0.1) {
			pod = g.AffinityPod(fmt.Sprintf("once%d", step), 0.8)
		}
		pod.Labels[uniqueKey] = fmt.Sprint(step % 5)
		fresh, err := NewWithArgs(c.Handle, args)
		if err != nil {
			t.Fatal(err)
		}
		where := func() string {
			return fmt.Sprintf("seed %d, step %d, pod %s\nnodes %s\npods %s", seed, step, plugintest.Dump(pod), plugintest.Dump(s.nodes), plugintest.Dump(s.pods))
		}
		compareFilter(ctx, t, cached, fresh, oracle.(fwk.FilterPlugin), pod, nodes, s, where)
		compareScore(ctx, t, cached, fresh, oracle.(fwk.ScorePlugin), pod, nodes, where)
		if t.Failed() {
			t.FailNow()
		}
		if opts.observe != nil {
			opts.observe(cached)
		}
	}
	if opts.totalsRead != nil {
		*opts.totalsRead = s.totalsRead
	}
	return cached
}

// newLiveState starts a live scheduler cache with the generator's namespaces
// and the given number of nodes.
func newLiveState(t *testing.T, g plugintest.Gen, nodes int) *liveState {
	c := plugintest.NewLiveCluster(t)
	for _, ns := range g.Namespaces() {
		c.SetNamespace(t, ns)
	}
	s := &liveState{t: t, g: g, c: c, nodes: map[string]*v1.Node{}, pods: map[types.UID]*v1.Pod{}, assumed: map[types.UID]*v1.Pod{}, maxNodes: nodes}
	for range nodes {
		s.addNode()
	}
	return s
}

func compareFilter(ctx context.Context, t *testing.T, cached, fresh *PodAffinity, oracle fwk.FilterPlugin, pod *v1.Pod, nodes []fwk.NodeInfo, s *liveState, where func() string) {
	t.Helper()
	got, gotState := plugintest.Filter(ctx, cached, pod, nodes)
	want, wantState := plugintest.Filter(ctx, fresh, pod, nodes)
	if diff := plugintest.DiffVerdicts(want, got, nodes); diff != "" {
		t.Errorf("cached vs fresh: %s\n%s", diff, where())
		return
	}
	truth, truthState := plugintest.Filter(ctx, oracle, pod, nodes)
	if diff := plugintest.DiffVerdicts(truth, got, nodes); diff != "" {
		t.Errorf("cached vs in-tree: %s\n%s", diff, where())
		return
	}
	if !got.PreFilter.IsSuccess() {
		return
	}
	sameCounts(t, "PreFilter", gotState, wantState, where)
	s.totalsRead += sameTotals(t, gotState, nodes, where)
	// Preemption's what-if: the same change to both states.
	change, node := s.preemptionChange(nodes)
	info, err := framework.NewPodInfo(change.pod)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*fwk.CycleState{&gotState, &wantState, &truthState} {
		*st = (*st).Clone()
	}
	apply := func(ext fwk.PreFilterExtensions, state fwk.CycleState) *fwk.Status {
		if change.op == "remove" {
			return ext.RemovePod(ctx, state, pod, info, node)
		}
		return ext.AddPod(ctx, state, pod, info, node)
	}
	if s1, s2 := apply(cached, gotState), apply(fresh, wantState); !s1.IsSuccess() || !s2.IsSuccess() {
		t.Fatalf("%s: %v / %v", change.op, s1, s2)
	}
	if s := apply(oracle.(fwk.PreFilterPlugin).PreFilterExtensions(), truthState); !s.IsSuccess() {
		t.Fatalf("in-tree %s: %v", change.op, s)
	}
	sameCounts(t, change.op+" "+change.pod.Name, gotState, wantState, where)
	s.totalsRead += sameTotals(t, gotState, nodes, where)
	for i, n := range nodes {
		g, w := cached.Filter(ctx, gotState, pod, n), oracle.Filter(ctx, truthState, pod, n)
		if plugintest.Describe(g) != plugintest.Describe(w) {
			t.Errorf("after %s %s, node %s: cached %s, in-tree %s\n%s", change.op, change.pod.Name, nodes[i].Node().Name, plugintest.Describe(g), plugintest.Describe(w), where())
		}
	}
}

func sameCounts(t *testing.T, when string, got, want fwk.CycleState, where func() string) {
	t.Helper()
	gs, err := readFilterState(got)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := readFilterState(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want *counting.Counts
	}{
		{"affinity", gs.affinityCounts, ws.affinityCounts},
		{"anti-affinity", gs.antiAffinityCounts, ws.antiAffinityCounts},
		{"existing anti-affinity", gs.existingAntiCounts, ws.existingAntiCounts},
	} {
		if g, w := materialize(c.got), materialize(c.want); !reflect.DeepEqual(g, w) || c.got.Len() != len(w) {
			t.Errorf("%s: %s counts: cached %v (%d non-zero), fresh %v\n%s", when, c.name, g, c.got.Len(), w, where())
		}
	}
}

// sameScoreState: every node at the same position, with the same total
// (kept and fresh totals may be laid out differently: wide cells).
func sameScoreState(a, b *scoreState, nodes []fwk.NodeInfo) bool {
	for _, ni := range nodes {
		i, okA := a.totals.Position(ni)
		j, okB := b.totals.Position(ni)
		if okA != okB || i != j || okA && a.totals.At(i) != b.totals.At(j) {
			return false
		}
	}
	return true
}

// sameTotals checks that every node total Filter may read equals the sum of
// the counts of the node's domains, and returns how many it checked.
func sameTotals(t *testing.T, cs fwk.CycleState, nodes []fwk.NodeInfo, where func() string) int {
	t.Helper()
	s, err := readFilterState(cs)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, l := range []*counting.Counts{s.affinityCounts, s.antiAffinityCounts, s.existingAntiCounts} {
		for _, ni := range nodes {
			got, ok := l.Total(ni, &counting.Position{})
			if !ok {
				continue
			}
			checked++
			want := int64(0)
			for k, v := range ni.Node().Labels {
				want += l.Get(counting.Domain{Key: k, Value: v})
			}
			if got != want {
				t.Errorf("node %s: total %d, its domains' counts add up to %d\n%s", ni.Node().Name, got, want, where())
			}
		}
	}
	return checked
}

func compareScore(ctx context.Context, t *testing.T, cached, fresh *PodAffinity, oracle fwk.ScorePlugin, pod *v1.Pod, nodes []fwk.NodeInfo, where func() string) {
	t.Helper()
	gotState, wantState := plugintest.NewCycleState(), plugintest.NewCycleState()
	g, w := cached.PreScore(ctx, gotState, pod, nodes), fresh.PreScore(ctx, wantState, pod, nodes)
	if plugintest.Describe(g) != plugintest.Describe(w) {
		t.Errorf("PreScore: cached %s, fresh %s\n%s", plugintest.Describe(g), plugintest.Describe(w), where())
		return
	}
	if g.IsSuccess() {
		gs, err1 := readScoreState(gotState)
		ws, err2 := readScoreState(wantState)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !sameScoreState(gs, ws, nodes) {
			t.Errorf("PreScore totals: cached %+v, fresh %+v\n%s", gs, ws, where())
		}
		want := rawScoresFromScratch(ctx, t, fresh, pod, nodes)
		for i, n := range nodes {
			if got, st := cached.Score(ctx, gotState, pod, n); !st.IsSuccess() || got != want[i] {
				t.Errorf("node %s: raw score %d (%s), from scratch %d\n%s", n.Node().Name, got, plugintest.Describe(st), want[i], where())
			}
		}
	}
	gotScores, gotStatus := plugintest.Score(ctx, cached, pod, nodes)
	wantScores, wantStatus := plugintest.Score(ctx, oracle, pod, nodes)
	if diff := plugintest.DiffScores(wantScores, wantStatus, gotScores, gotStatus); diff != "" {
		t.Errorf("cached vs in-tree scores: %s\n%s", diff, where())
	}
}

// rawScoresFromScratch is what Score must return per node, computed without
// a kept view or its totals: every node's shares summed per domain, then each
// node's domains read through its labels.
func rawScoresFromScratch(ctx context.Context, t *testing.T, pl *PodAffinity, pod *v1.Pod, nodes []fwk.NodeInfo) []int64 {
	t.Helper()
	sc, err := pl.newScoreRelation(ctx, pod, hasPreferredTerms(pod))
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := pl.index.CountOnce(ctx, nodes, sc.Rule(), counting.ByDomain)
	out := make([]int64, len(nodes))
	for i, n := range nodes {
		for k, v := range n.Node().Labels {
			out[i] += sums.Get(counting.Domain{Key: k, Value: v})
		}
	}
	return out
}

type podChange struct {
	op  string
	pod *v1.Pod
}

// preemptionChange picks what preemption might simulate on one node: evicting
// a pod there, or adding one.
func (s *liveState) preemptionChange(nodes []fwk.NodeInfo) (podChange, fwk.NodeInfo) {
	ni := nodes[s.g.Intn(len(nodes))]
	if pods := ni.GetPods(); len(pods) > 0 && s.g.Chance(0.5) {
		return podChange{"remove", pods[s.g.Intn(len(pods))].GetPod()}, ni
	}
	p := s.g.AffinityPod("what-if", 0.4)
	p.Spec.NodeName = ni.Node().Name
	return podChange{"add", p}, ni
}

// mutate changes the cache in one random way.
func (s *liveState) mutate() {
	if s.g.Chance(s.nodeChurn) {
		if s.g.Chance(0.5) {
			s.addNode()
		} else {
			s.removeNode()
		}
		return
	}
	switch s.g.Intn(10) {
	case 0, 1, 2:
		s.relabelNode()
	case 3, 4:
		s.addPod(false)
	case 5:
		s.addPod(true)
	case 6:
		s.settleAssumed()
	case 7:
		s.relabelPod()
	case 8:
		s.removePod()
	case 9:
		s.relabelNamespace()
	}
}

func (s *liveState) addNode() {
	if len(s.nodes) >= max(s.maxNodes, 10) {
		return
	}
	n := s.g.Nodes(1)[0]
	n.Name = fmt.Sprintf("node%d", s.next)
	if _, ok := n.Labels[v1.LabelHostname]; ok {
		n.Labels[v1.LabelHostname] = n.Name
	}
	s.next++
	s.nodes[n.Name] = n
	s.c.Cache.AddNode(s.c.Logger, n)
}

func (s *liveState) anyNode() *v1.Node {
	for _, n := range s.nodes {
		return n
	}
	return nil
}

func (s *liveState) relabelNode() {
	old := s.anyNode()
	if old == nil {
		return
	}
	n := old.DeepCopy()
	n.Labels = s.g.Nodes(1)[0].Labels
	if _, ok := n.Labels[v1.LabelHostname]; ok {
		n.Labels[v1.LabelHostname] = n.Name
	}
	s.nodes[n.Name] = n
	s.c.Cache.UpdateNode(s.c.Logger, old, n)
}

func (s *liveState) removeNode() {
	n := s.anyNode()
	if n == nil || len(s.nodes) <= 1 {
		return
	}
	// The pods go first, as the node lifecycle would evict them.
	for uid, p := range s.pods {
		if p.Spec.NodeName == n.Name {
			s.remove(uid)
		}
	}
	delete(s.nodes, n.Name)
	if err := s.c.Cache.RemoveNode(s.c.Logger, n); err != nil {
		panic(err)
	}
}

func (s *liveState) addPod(assume bool) {
	n := s.anyNode()
	if n == nil || len(s.pods)+len(s.assumed) >= 60 {
		return
	}
	p := s.g.AffinityPod(fmt.Sprintf("pod%d", s.next), 0.4)
	p.UID = types.UID(p.Name)
	// A few select on the incoming pods' own label: required (the
	// existing-anti query must tell those pods apart) or only preferred (it
	// must not need to).
	if s.g.Chance(0.1) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &v1.Affinity{}
		}
		term := v1.PodAffinityTerm{
			TopologyKey:       "zone",
			LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{uniqueKey: fmt.Sprint(s.g.Intn(5))}},
			NamespaceSelector: &metav1.LabelSelector{},
		}
		if s.g.Chance(0.5) {
			p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}
		} else {
			p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{Weight: 5, PodAffinityTerm: term}}}
		}
	}
	s.next++
	p.Spec.NodeName = n.Name
	var err error
	if assume {
		s.assumed[p.UID] = p
		err = s.c.Cache.AssumePod(s.c.Logger, p)
	} else {
		s.pods[p.UID] = p
		err = s.c.Cache.AddPod(s.c.Logger, p)
	}
	if err != nil {
		panic(err)
	}
}

// settleAssumed either confirms an assumed pod (the informer saw the
// binding) or forgets it (binding failed).
func (s *liveState) settleAssumed() {
	for uid, p := range s.assumed {
		delete(s.assumed, uid)
		var err error
		if s.g.Chance(0.5) {
			s.pods[uid] = p
			err = s.c.Cache.AddPod(s.c.Logger, p)
		} else {
			err = s.c.Cache.ForgetPod(s.c.Logger, p)
		}
		if err != nil {
			panic(err)
		}
		return
	}
}

func (s *liveState) relabelPod() {
	for uid, old := range s.pods {
		p := old.DeepCopy()
		p.Labels = s.g.AffinityPod("x", 0).Labels
		s.pods[uid] = p
		if err := s.c.Cache.UpdatePod(s.c.Logger, old, p); err != nil {
			panic(err)
		}
		return
	}
}

func (s *liveState) removePod() {
	for uid := range s.pods {
		s.remove(uid)
		return
	}
}

func (s *liveState) remove(uid types.UID) {
	p := s.pods[uid]
	delete(s.pods, uid)
	if err := s.c.Cache.RemovePod(s.c.Logger, p); err != nil {
		panic(err)
	}
}

func (s *liveState) relabelNamespace() {
	s.c.SetNamespace(s.t, s.g.Namespaces()[s.g.Intn(3)])
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
func indexKeys(x *counting.Index) sets.Set[string] {
	stats := x.Stats()
	out := sets.New(stats.SeenOnce...)
	for _, v := range stats.Views {
		out.Insert(v.Key)
	}
	return out
}

// materialize returns the combined counts as one map.
func materialize(c *counting.Counts) map[counting.Domain]int64 {
	m := map[counting.Domain]int64{}
	c.Each(func(d counting.Domain, n int64) bool { m[d] = n; return false })
	return m
}

// verdicts runs Filter on every node; nil state means PreFilter skipped.
func verdicts(ctx context.Context, pl *PodAffinity, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) []*fwk.Status {
	out := make([]*fwk.Status, len(nodes))
	if _, err := state.Read(filterKey); err != nil {
		return out
	}
	for i, ni := range nodes {
		out[i] = pl.Filter(ctx, state, pod, ni)
	}
	return out
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// cyclePlugins is the extension points one scheduling cycle runs.
type cyclePlugins interface {
	fwk.PreFilterPlugin
	fwk.FilterPlugin
	fwk.PreScorePlugin
}

// runCycle runs PreFilter, Filter on a few nodes, and PreScore for pod over
// the snapshot, as one cycle does.
func runCycle(ctx context.Context, tb testing.TB, pl cyclePlugins, pod *v1.Pod, nodes []fwk.NodeInfo) {
	state := framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, state, pod, nodes); !s.IsSuccess() && !s.IsSkip() {
		tb.Fatalf("PreFilter: %v", s)
	}
	for _, n := range nodes[:min(len(nodes), 16)] {
		pl.Filter(ctx, state, pod, n)
	}
	if s := pl.PreScore(ctx, state, pod, nodes); !s.IsSuccess() && !s.IsSkip() {
		tb.Fatalf("PreScore: %v", s)
	}
}
