package integration

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/kubectlplacement"
)

// TestDrift lets our scheduler place pods with every kind of required rule,
// then relabels and taints their nodes and relabels pods under them, and
// expects `kubectl placement drift`, run as an explainer, to list exactly
// the pods whose rules now break, by the plugin that judges each rule; then
// a drifted pod created afresh lands where drift said, and one drift says
// fits nowhere stays pending.
func TestDrift(t *testing.T) {
	e, explainer := newExplainEnv(t)
	const pool, tier, maint = "drift.test/pool", "drift.test/tier", "drift.test/maintenance"
	label := func(key, value string) func(*v1.Node) {
		return func(n *v1.Node) { n.Labels[key] = value }
	}
	e.patchNode("node-a1", label(pool, "blue"))
	e.patchNode("node-a2", label(tier, "gold"))
	on := func(name, node string) *st.PodWrapper {
		return pausePod(name).NodeSelector(map[string]string{v1.LabelHostname: node})
	}
	goldOnly := &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
		MatchExpressions: []v1.NodeSelectorRequirement{{Key: tier, Operator: v1.NodeSelectorOpIn, Values: []string{"gold"}}},
	}}}}
	pods := []*v1.Pod{
		on("drift-selector", "node-a1").NodeSelector(map[string]string{v1.LabelHostname: "node-a1", pool: "blue"}).Obj(),
		on("drift-selector-ok", "node-a1").Obj(),
		pausePod("drift-affinity").NodeAffinity(goldOnly).Obj(),
		on("drift-taint", "node-b2").Obj(),
		on("drift-tolerant", "node-b2").Toleration(maint).Obj(),
		on("drift-anti", "node-c1").Label("solo", "true").PodAntiAffinityExists("solo", v1.LabelHostname, st.PodAntiAffinityWithRequiredReq).Obj(),
		on("drift-neighbour", "node-c1").Label("role", "neighbour").Obj(),
		on("drift-leader", "node-c1").Label("app", "drift-leader").Obj(),
	}
	for _, p := range pods {
		e.createPod(p)
	}
	for _, p := range pods {
		e.waitBound(p, 30*time.Second)
	}
	follower := on("drift-follower", "node-c1").PodAffinityExists("app", v1.LabelHostname, st.PodAffinityWithRequiredReq).Obj()
	follower.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "drift-leader"}}
	e.waitBound(e.createPod(follower), 30*time.Second)

	if d := e.drift(t, explainer, "-n", "default"); len(d.Pods) != 0 {
		t.Fatalf("before any change, drift lists %+v", d.Pods)
	}

	// Break every rule under the running pods.
	e.patchNode("node-a1", label(pool, "green"))
	e.patchNode("node-a2", label(tier, "silver"))
	e.patchNode("node-b1", label(tier, "gold"))
	e.patchNode("node-b2", func(n *v1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: maint, Value: "true", Effect: v1.TaintEffectNoSchedule})
	})
	e.patchPod("drift-neighbour", `{"metadata":{"labels":{"solo":"true"}}}`)
	e.patchPod("drift-leader", `{"metadata":{"labels":{"app":"retired"}}}`)

	want := map[string][]string{
		"drift-selector":  {"PlacementNodeSelector"},
		"drift-affinity":  {"PlacementNodeAffinity"},
		"drift-taint":     {"PlacementTaintToleration"},
		"drift-anti":      {"PlacementPodAffinity"},
		"drift-neighbour": {"PlacementPodAffinity"},
		"drift-follower":  {"PlacementPodAffinity"},
	}
	// The explainer's listing may lag the patches by a moment.
	var d *explain.Drift
	deadline := time.Now().Add(10 * time.Second)
	for {
		d = e.drift(t, explainer, "-A")
		if len(d.Pods) == len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	byName := map[string]explain.DriftedPod{}
	for _, p := range d.Pods {
		byName[p.Name] = p
		var plugins []string
		for _, b := range p.Broken {
			plugins = append(plugins, b.Plugin)
		}
		if w, ok := want[p.Name]; !ok || !slices.Equal(plugins, w) {
			t.Errorf("%s on %s: broken by %v (%+v), want %v", p.Name, p.Node, plugins, p.Broken, w)
		}
	}
	for name := range want {
		if _, ok := byName[name]; !ok {
			t.Errorf("%s is not listed as drifted", name)
		}
	}
	if b := byName["drift-taint"].Broken; len(b) == 1 && b[0].Detail != "taint "+maint+"=true:NoSchedule" {
		t.Errorf("drift-taint: detail %q, want the taint named", b[0].Detail)
	}
	if p := byName["drift-affinity"]; !slices.Equal(p.Pick, []string{"node-b1"}) {
		t.Errorf("drift-affinity would go to %v (%s), want node-b1, the only gold node", p.Pick, p.Unschedulable)
	}
	if p := byName["drift-selector"]; len(p.Pick) != 0 || p.Unschedulable == "" {
		t.Errorf("drift-selector would go to %v, want nowhere with a reason", p.Pick)
	}

	// The scheduler agrees with where drift says the pods would go.
	for _, name := range []string{"drift-affinity", "drift-selector"} {
		old, err := e.cs.CoreV1().Pods("default").Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cs.CoreV1().Pods("default").Delete(e.ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		again := old.DeepCopy()
		again.ObjectMeta = metav1.ObjectMeta{Name: name + "-again", Namespace: old.Namespace, Labels: old.Labels}
		again.Spec.NodeName = ""
		again.Status = v1.PodStatus{}
		created := e.createPod(again)
		if name == "drift-affinity" {
			if node := e.waitBound(created, 30*time.Second); node != "node-b1" {
				t.Errorf("%s landed on %s; drift said node-b1", created.Name, node)
			}
		} else {
			msg := e.waitFailedScheduling(created, 30*time.Second)
			if !strings.HasPrefix(msg, byName[name].Unschedulable) {
				t.Errorf("%s: FailedScheduling %q; drift said %q", created.Name, msg, byName[name].Unschedulable)
			}
		}
	}

	// Text output names the broken rule and the verdict.
	out, err := runPlacement(explainer, "drift", "-n", "default", "-l", "solo")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"2 of 2 running pods break their placement rules", "drift-anti", "drift-neighbour", "didn't match pod anti-affinity rules", "didn't satisfy existing pods anti-affinity rules"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("drift text output lacks %q:\n%s", w, out)
		}
	}
	if _, err := runPlacement(explainer, "drift", "-l", "app in (", "-n", "default"); err == nil || !strings.Contains(err.Error(), "--selector") {
		t.Errorf("a bad selector: err = %v, want one naming --selector", err)
	}
}

// markRunning does what the kubelet would: the pod runs and is Ready (the
// Eviction API weighs budgets only for running pods).
func (e *env) markRunning(name string) {
	e.t.Helper()
	p, err := e.cs.CoreV1().Pods("default").Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	p.Status.Phase = v1.PodRunning
	p.Status.Conditions = append(p.Status.Conditions, v1.PodCondition{Type: v1.PodReady, Status: v1.ConditionTrue})
	if _, err := e.cs.CoreV1().Pods("default").UpdateStatus(e.ctx, p, metav1.UpdateOptions{}); err != nil {
		e.t.Fatalf("marking pod %s running: %v", name, err)
	}
}

func (e *env) patchPod(name, patch string) {
	e.t.Helper()
	if _, err := e.cs.CoreV1().Pods("default").Patch(e.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		e.t.Fatalf("patching pod %s: %v", name, err)
	}
}

// runPlacement runs `kubectl placement ARGS` as the kubeconfig's user.
func runPlacement(kubeconfig string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := kubectlplacement.NewCommand(&out)
	cmd.SetArgs(append(args, "--kubeconfig", kubeconfig))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return out.Bytes(), err
}

func (e *env) drift(t *testing.T, kubeconfig string, args ...string) *explain.Drift {
	t.Helper()
	start := time.Now()
	out, err := runPlacement(kubeconfig, append([]string{"drift", "-o", "json"}, args...)...)
	if err != nil {
		t.Fatalf("drift %v: %v", args, err)
	}
	t.Logf("drift %v took %v", args, time.Since(start))
	var d explain.Drift
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("drift -o json: %v\n%s", err, out)
	}
	return &d
}

// TestDriftEvict: --evict is a dry run by default and writes nothing; it
// never evicts a pod without a controller or one that fits nowhere else;
// without the evict role it stops before any write, naming the permission;
// with it, --dry-run=none evicts through the Eviction API, a budget with no
// disruptions left refuses its pod (reported, the pod stays) and the command
// exits non-zero.
func TestDriftEvict(t *testing.T) {
	e, explainer := newExplainEnv(t)
	const pool = "drift.test/pool"
	label := func(value string) func(*v1.Node) {
		return func(n *v1.Node) { n.Labels[pool] = value }
	}
	e.patchNode("node-a1", label("blue"))
	blue := func(name string) *st.PodWrapper {
		return pausePod(name).NodeSelector(map[string]string{pool: "blue"})
	}
	pods := []*v1.Pod{
		owned(blue("evict-ok").Obj(), "ReplicaSet", "ok"),
		owned(blue("evict-guarded").Label("app", "guarded").Obj(), "ReplicaSet", "guarded"),
		blue("evict-bare").Obj(),
		owned(blue("evict-stuck").NodeSelector(map[string]string{pool: "blue", v1.LabelHostname: "node-a1"}).Obj(), "ReplicaSet", "stuck"),
	}
	for _, p := range pods {
		e.waitBound(e.createPod(p), 30*time.Second)
		e.markRunning(p.Name)
	}
	e.createFullBudget("guarded", "guarded", 1)
	e.patchNode("node-a1", label("green"))
	e.patchNode("node-b1", label("blue"))

	evictions := func(kubeconfig string, args ...string) (map[string]explain.Eviction, error) {
		t.Helper()
		out, err := runPlacement(kubeconfig, append([]string{"drift", "-n", "default", "--evict", "-o", "json"}, args...)...)
		if len(out) == 0 {
			return nil, err
		}
		var d explain.Drift
		if jerr := json.Unmarshal(out, &d); jerr != nil {
			t.Fatalf("drift --evict -o json: %v\n%s", jerr, out)
		}
		got := map[string]explain.Eviction{}
		for _, ev := range d.Evictions {
			got[ev.Name] = ev
		}
		return got, err
	}
	untouched := func(names ...string) {
		t.Helper()
		for _, name := range names {
			p, err := e.cs.CoreV1().Pods("default").Get(e.ctx, name, metav1.GetOptions{})
			if err != nil || p.DeletionTimestamp != nil {
				t.Errorf("%s: %v, deleted %v; want it untouched", name, err, p.DeletionTimestamp)
			}
		}
	}

	got, err := evictions(explainer)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"evict-ok": "WouldEvict", "evict-guarded": "WouldEvict", "evict-bare": "Skipped", "evict-stuck": "Skipped"}
	for name, outcome := range want {
		if got[name].Outcome != outcome {
			t.Errorf("dry run: %s = %+v, want %s", name, got[name], outcome)
		}
	}
	if !strings.Contains(got["evict-bare"].Message, "no controller") || !strings.Contains(got["evict-stuck"].Message, "fits on no other node") {
		t.Errorf("skip reasons: %q, %q", got["evict-bare"].Message, got["evict-stuck"].Message)
	}
	untouched("evict-ok", "evict-guarded", "evict-bare", "evict-stuck")

	if _, err := evictions(explainer, "--dry-run=none"); err == nil || !strings.Contains(err.Error(), "missing permission: create pods/eviction in namespace(s) default") ||
		!strings.Contains(err.Error(), "placement-scheduler-evict") {
		t.Errorf("without the evict role: err = %v, want the permission and the role named", err)
	}
	untouched("evict-ok", "evict-guarded")

	e.apply(manifests.EvictRBAC)
	evictor := filepath.Join(t.TempDir(), "evictor.kubeconfig")
	if err := e.cluster.WriteKubeconfigAs(evictor, "dave", []string{"placement-scheduler:explainers", "placement-scheduler:evictors"}); err != nil {
		t.Fatal(err)
	}
	got, err = evictions(evictor, "--dry-run=none")
	if err == nil || !strings.Contains(err.Error(), "1 eviction(s) refused or failed: default/evict-guarded") {
		t.Errorf("err = %v, want the refused eviction named", err)
	}
	if got["evict-ok"].Outcome != "Evicted" || got["evict-guarded"].Outcome != "Refused" || !strings.Contains(got["evict-guarded"].Message, "disruption budget") {
		t.Errorf("evict-ok %+v, evict-guarded %+v; want evicted, and refused by the budget", got["evict-ok"], got["evict-guarded"])
	}
	if p, err := e.cs.CoreV1().Pods("default").Get(e.ctx, "evict-ok", metav1.GetOptions{}); err == nil && p.DeletionTimestamp == nil {
		t.Error("evict-ok was reported evicted but is neither gone nor terminating")
	}
	untouched("evict-guarded", "evict-bare", "evict-stuck")
}
