package explain_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func driftNode(name, zone, pool string, taints ...v1.Taint) *v1.Node {
	n := st.MakeNode().Name(name).Label(v1.LabelHostname, name).Label(v1.LabelTopologyZone, zone).Label("pool", pool).
		Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "4", v1.ResourcePods: "110"}).Obj()
	n.Spec.Taints = taints
	return n
}

func runningPod(name, node, scheduler string) *st.PodWrapper {
	p := st.MakePod().Namespace("default").Name(name).UID(name).SchedulerName(scheduler).Node(node).Phase(v1.PodRunning)
	return p.Container("registry.k8s.io/pause:3.10")
}

// driftSession opens a session for drift over objs.
func driftSession(t *testing.T, objs ...runtime.Object) *explain.Session {
	t.Helper()
	o := testOptions(t, fake.NewClientset(objs...))
	o.Drift = true
	s, err := explain.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestDrift breaks each kind of required rule under running pods and
// expects exactly those pods, with every rule they break and where they
// would go now; healthy pods, including those whose rules hold only because
// they tolerate or match, are not listed.
func TestDrift(t *testing.T) {
	taint := v1.Taint{Key: "maintenance", Value: "true", Effect: v1.TaintEffectNoSchedule}
	ours := "placement-scheduler"
	objs := []runtime.Object{
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		driftNode("n1", "a", "x"),
		driftNode("n2", "b", "y", taint),
		driftNode("n3", "a", "x"),
		driftNode("n4", "b", "y"),
		runningPod("selector-broken", "n1", ours).NodeSelector(map[string]string{"pool": "y"}).Obj(),
		runningPod("selector-ok", "n1", ours).NodeSelector(map[string]string{"pool": "x"}).Obj(),
		runningPod("affinity-broken", "n3", ours).NodeAffinityIn(v1.LabelTopologyZone, []string{"b"}, st.NodeSelectorTypeMatchExpressions).Obj(),
		runningPod("taint-broken", "n2", ours).Obj(),
		runningPod("taint-ok", "n2", ours).Toleration("maintenance").Obj(),
		runningPod("two-rules", "n2", ours).NodeSelector(map[string]string{"pool": "x"}).Obj(),
		runningPod("anti-1", "n3", ours).Label("app", "solo").PodAntiAffinityExists("app", v1.LabelHostname, st.PodAntiAffinityWithRequiredReq).Obj(),
		runningPod("plain-beside-anti", "n3", ours).Label("app", "solo").Obj(),
		runningPod("default-broken", "n1", v1.DefaultSchedulerName).NodeSelector(map[string]string{"pool": "y"}).Obj(),
		runningPod("other-scheduler", "n1", "someone-else").NodeSelector(map[string]string{"pool": "y"}).Obj(),
		st.MakePod().Namespace("default").Name("pending").UID("pending").SchedulerName(ours).NodeSelector(map[string]string{"pool": "none"}).Obj(),
	}
	s := driftSession(t, objs...)
	d, err := s.Drift(context.Background(), explain.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}

	type want struct {
		plugins []string
		reason  string
		pick    []string
	}
	wants := map[string]want{
		"selector-broken":   {[]string{"PlacementNodeSelector"}, "didn't match Pod's node affinity/selector", []string{"n4"}},
		"affinity-broken":   {[]string{"PlacementNodeAffinity"}, "didn't match Pod's node affinity/selector", []string{"n4"}},
		"taint-broken":      {[]string{"PlacementTaintToleration"}, "untolerated taint", nil},
		"two-rules":         {[]string{"PlacementTaintToleration", "PlacementNodeSelector"}, "", nil},
		"anti-1":            {[]string{"PlacementPodAffinity"}, "didn't match pod anti-affinity rules", nil},
		"plain-beside-anti": {[]string{"PlacementPodAffinity"}, "didn't satisfy existing pods anti-affinity rules", nil},
		"default-broken":    {[]string{"NodeAffinity"}, "didn't match Pod's node affinity/selector", []string{"n4"}},
	}
	var got []string
	for _, p := range d.Pods {
		got = append(got, p.Name)
		w, ok := wants[p.Name]
		if !ok {
			t.Errorf("%s on %s listed as drifted: %+v", p.Name, p.Node, p.Broken)
			continue
		}
		var plugins []string
		for _, b := range p.Broken {
			plugins = append(plugins, b.Plugin)
			if w.reason != "" && !strings.Contains(strings.Join(b.Reasons, "; "), w.reason) {
				t.Errorf("%s: %s says %q, want %q", p.Name, b.Plugin, b.Reasons, w.reason)
			}
		}
		if p.Name == "taint-broken" && p.Broken[0].Detail != "taint maintenance=true:NoSchedule" {
			t.Errorf("taint-broken: detail %q, want the taint", p.Broken[0].Detail)
		}
		if !slices.Equal(plugins, w.plugins) {
			t.Errorf("%s: broken by %v, want %v", p.Name, plugins, w.plugins)
		}
		if w.pick != nil && !slices.Equal(p.Pick, w.pick) {
			t.Errorf("%s: would go to %v (%s), want %v", p.Name, p.Pick, p.Unschedulable, w.pick)
		}
		if len(p.Pick) == 0 && p.Unschedulable == "" {
			t.Errorf("%s: neither a pick nor why it fits nowhere", p.Name)
		}
	}
	for name := range wants {
		if !slices.Contains(got, name) {
			t.Errorf("%s is not listed as drifted", name)
		}
	}
	// Every running pod but the other scheduler's is judged.
	if d.Checked != 9 {
		t.Errorf("checked %d pods, want 9", d.Checked)
	}
	notes := strings.Join(d.Notes, "\n")
	for _, w := range []string{"default-scheduler are judged with upstream's default profile", "1 running pods of schedulers without a profile here (someone-else)"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes %q lack %q", notes, w)
		}
	}

	// pkg/kubectlplacement prints this answer (TestPrintGolden).
	fixtures.Golden(t, "drift.json", answerJSON(t, d), *update)

	// A selector and a namespace narrow what is judged.
	sel, _ := labels.Parse("app=solo")
	if d, err := s.Drift(context.Background(), explain.DriftOptions{Namespace: "default", Selector: sel}); err != nil || d.Checked != 2 || len(d.Pods) != 2 {
		t.Errorf("app=solo: checked %d, drifted %d (%v); want 2 and 2", d.Checked, len(d.Pods), err)
	}
	if d, err := s.Drift(context.Background(), explain.DriftOptions{Namespace: "kube-system"}); err != nil || d.Checked != 0 {
		t.Errorf("kube-system: %+v, %v; want nothing checked", d, err)
	}
}

// TestDriftNeedsItsProfiles: a session opened without Options.Drift says so.
func TestDriftNeedsItsProfiles(t *testing.T) {
	s, err := explain.Open(context.Background(), testOptions(t, fake.NewClientset()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Drift(context.Background(), explain.DriftOptions{}); err == nil {
		t.Error("Drift ran on a session not opened for it")
	}
}

// TestDriftPreferred: a pod that prefers zone b runs in zone a; with
// --preferred it is listed with the score moving would win, unless the
// margin is larger than that; a pod already on its best node is not.
func TestDriftPreferred(t *testing.T) {
	ours := "placement-scheduler"
	prefersB := &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{{
		Weight: 100, Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: v1.LabelTopologyZone, Operator: v1.NodeSelectorOpIn, Values: []string{"b"}}}},
	}}}
	objs := []runtime.Object{
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		driftNode("n1", "a", "x"), driftNode("n2", "b", "x"),
		runningPod("wants-b", "n1", ours).NodeAffinity(prefersB).Obj(),
		runningPod("has-b", "n2", ours).NodeAffinity(prefersB).Obj(),
	}
	s := driftSession(t, objs...)
	d, err := s.Drift(context.Background(), explain.DriftOptions{Preferred: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pods) != 1 || d.Pods[0].Name != "wants-b" || d.Pods[0].Preferred == nil || len(d.Pods[0].Broken) != 0 {
		t.Fatalf("drift --preferred: %+v, want wants-b alone, behind and breaking nothing", d.Pods)
	}
	g := d.Pods[0].Preferred
	if g.Gain <= 0 || g.Gain != g.BestScore-g.NodeScore || !slices.Equal(d.Pods[0].Pick, []string{"n2"}) {
		t.Errorf("gap %+v, pick %v; want a positive gain towards n2", g, d.Pods[0].Pick)
	}
	if d, err := s.Drift(context.Background(), explain.DriftOptions{Preferred: true, Margin: g.Gain}); err != nil || len(d.Pods) != 0 {
		t.Errorf("with a margin of the gain itself: %+v, %v; want nothing listed", d.Pods, err)
	}
	if d, err := s.Drift(context.Background(), explain.DriftOptions{}); err != nil || len(d.Pods) != 0 {
		t.Errorf("without --preferred: %+v, %v; want nothing listed", d.Pods, err)
	}
}

// TestDriftNarrowEqualsWide: drift judges most pods over a view of their
// node's topology domains (driftview.go); over random clusters, relabelled
// and tainted under their pods, that must give exactly the answer of
// judging every pod over the whole snapshot with the pod taken out of the
// cache.
func TestDriftNarrowEqualsWide(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			objs := randomDriftCluster(rand.New(rand.NewPCG(seed, 7)))
			narrow := driftSession(t, objs...)
			wide := driftSession(t, objs...)
			explain.JudgeWide(wide)
			got, err := narrow.Drift(context.Background(), explain.DriftOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := wide.Drift(context.Background(), explain.DriftOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Checked != want.Checked || got.Checked == 0 {
				t.Fatalf("checked %d pods, judging wide %d", got.Checked, want.Checked)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("narrow judging differs from wide (-wide +narrow):\n%s", diff)
			}
			t.Logf("%d pods judged, %d drifted", got.Checked, len(got.Pods))
		})
	}
}

// randomDriftCluster is nodes in zones and racks (some without a zone, some
// tainted) and running pods with every kind of required rule, placed at
// random so that some rules hold and some do not.
func randomDriftCluster(r *rand.Rand) []runtime.Object {
	ours := "placement-scheduler"
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	objs := []runtime.Object{
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"team": "a"}}},
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"team": "b"}}},
	}
	const nodes = 14
	for i := range nodes {
		name := fmt.Sprintf("n%d", i)
		n := st.MakeNode().Name(name).Label(v1.LabelHostname, name).Label("rack", pick("r1", "r2", "r3", "r4")).
			Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "64", v1.ResourcePods: "110"}).Obj()
		if r.IntN(5) > 0 {
			n.Labels[v1.LabelTopologyZone] = pick("a", "b", "c")
		}
		if r.IntN(6) == 0 {
			n.Spec.Taints = []v1.Taint{{Key: "maintenance", Effect: v1.TaintEffectNoSchedule}}
		}
		objs = append(objs, n)
	}
	keys := []string{v1.LabelHostname, v1.LabelTopologyZone, "rack"}
	apps := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	term := func() v1.PodAffinityTerm {
		t := v1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": pick(apps...)}},
			TopologyKey:   keys[r.IntN(len(keys))],
		}
		switch r.IntN(4) {
		case 0:
			t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": pick("a", "b")}}
		case 1:
			t.Namespaces = []string{"other"}
		case 2:
			t.LabelSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
			t.MatchLabelKeys = []string{"tier"}
		}
		return t
	}
	for i := range 60 {
		ns := pick("default", "default", "other")
		sched := ours
		if r.IntN(5) == 0 {
			sched = v1.DefaultSchedulerName
		}
		p := st.MakePod().Namespace(ns).Name(fmt.Sprintf("p%d", i)).UID(fmt.Sprintf("p%d", i)).SchedulerName(sched).
			Node(fmt.Sprintf("n%d", r.IntN(nodes))).Phase(v1.PodRunning).Container("registry.k8s.io/pause:3.10").
			Label("app", pick(apps...)).Label("tier", pick("x", "y")).Obj()
		a := &v1.Affinity{PodAffinity: &v1.PodAffinity{}, PodAntiAffinity: &v1.PodAntiAffinity{}}
		switch r.IntN(10) {
		case 0, 1:
			a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = []v1.PodAffinityTerm{term()}
		case 2:
			a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = []v1.PodAffinityTerm{term()}
		case 3:
			a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = []v1.PodAffinityTerm{term(), term()}
			a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = []v1.PodAffinityTerm{term()}
		}
		p.Spec.Affinity = a
		if r.IntN(4) == 0 {
			p.Spec.NodeSelector = map[string]string{v1.LabelTopologyZone: pick("a", "b")}
		}
		if r.IntN(2) == 0 {
			p.Spec.Tolerations = []v1.Toleration{{Key: "maintenance", Operator: v1.TolerationOpExists}}
		}
		objs = append(objs, p)
	}
	return objs
}
