package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestDecisionRecords: the scheduler records each decision from its own
// cycle, and the record agrees with explain over the same (unchanged)
// cluster and with the FailedScheduling message; it outlives the pod; and
// only who may read the namespace may read it.
func TestDecisionRecords(t *testing.T) {
	e, explainer := newExplainEnv(t)
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	var bound *v1.Pod
	t.Run("bound: explain's counts and scores", func(t *testing.T) {
		pod := e.createPod(pausePod("decided").Labels(map[string]string{"app": "decided"}).NodeAffinity(&v1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{{Weight: 10, Preference: v1.NodeSelectorTerm{
				MatchExpressions: []v1.NodeSelectorRequirement{{Key: fixtures.ZoneLabel, Operator: v1.NodeSelectorOpIn, Values: []string{"zone-b"}}},
			}}},
		}).Obj())
		node := e.waitBound(pod, 30*time.Second)
		bound = pod
		rec := e.waitDecision(dyn, pod, decision.Bound)
		if len(rec.Rejections) == 0 {
			t.Errorf("no rejections recorded; the tainted GPU node rejects the pod")
		}
		got := e.explain(t, explainer, pod.Name, "-n", pod.Namespace)
		if rec.Node != node || rec.Pod.Name != pod.Name || rec.Profile != "placement-scheduler" || rec.Attempts != 1 || rec.Labels["app"] != "decided" {
			t.Errorf("record %+v; want pod %s bound to %s by placement-scheduler in its first attempt, with its labels", rec, pod.Name, node)
		}
		// Fewer than 100 nodes: the scheduler evaluates them all, as explain does.
		if rec.Nodes.Total != got.Nodes || rec.Nodes.Evaluated != got.Nodes || rec.Nodes.Feasible != len(got.Feasible) {
			t.Errorf("record counts %+v; explain: %d nodes, %d feasible", rec.Nodes, got.Nodes, len(got.Feasible))
		}
		if want, have := explainRejections(got), recordRejections(rec); have != want {
			t.Errorf("rejections:\nrecord  %s\nexplain %s", have, want)
		}
		if len(rec.Scores) == 0 || rec.Scores[0].Node != node || rec.Margin == nil {
			t.Fatalf("scores %+v margin %v; want the bound node first", rec.Scores, rec.Margin)
		}
		scores := map[string]explain.NodeScore{}
		for _, s := range got.Feasible {
			scores[s.Node] = s
		}
		for _, s := range rec.Scores {
			want, ok := scores[s.Node]
			if !ok || want.Total != s.Total {
				t.Errorf("node %s: recorded total %d; explain %+v", s.Node, s.Total, want)
				continue
			}
			for _, p := range s.Plugins {
				for _, q := range want.Plugins {
					if q.Plugin == p.Plugin && q.Weighted != p.Score {
						t.Errorf("node %s plugin %s: recorded %d, explain %d", s.Node, p.Plugin, p.Score, q.Weighted)
					}
				}
			}
		}
		if n := min(len(got.Feasible), decision.DefaultTopNodes); len(rec.Scores) != n {
			t.Errorf("%d scores recorded; want the top %d", len(rec.Scores), n)
		}
	})

	t.Run("unschedulable: the FailedScheduling message", func(t *testing.T) {
		pod := e.createPod(pausePod("undecided").NodeSelector(map[string]string{fixtures.GPULabel: "true"}).Obj())
		event := e.waitFailedScheduling(pod, 30*time.Second)
		rec := e.waitDecision(dyn, pod, decision.Unschedulable)
		if rec.Message != event {
			t.Errorf("record message %q;\nFailedScheduling %q", rec.Message, event)
		}
		got := e.explain(t, explainer, pod.Name, "-n", pod.Namespace)
		if want, have := explainRejections(got), recordRejections(rec); have != want {
			t.Errorf("rejections:\nrecord  %s\nexplain %s", have, want)
		}
		if rec.Nodes.Total != got.Nodes || rec.Nodes.Feasible != 0 || rec.Node != "" {
			t.Errorf("record %+v; want %d nodes, none feasible", rec.Nodes, got.Nodes)
		}
	})

	t.Run("a pod bound at its first attempt is recorded in a batch", func(t *testing.T) {
		if _, err := dyn.Resource(decision.GroupVersionResource).Namespace(bound.Namespace).Get(e.ctx, string(bound.UID), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a PlacementDecision of its own: err = %v, want NotFound", err)
		}
		list, err := dyn.Resource(decision.BatchGroupVersionResource).Namespace(bound.Namespace).List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for i := range list.Items {
			b, err := decision.BatchFromUnstructured(&list.Items[i])
			if err != nil {
				t.Fatal(err)
			}
			if b.Count != len(b.Decisions) || len(b.Decisions) == 0 {
				t.Errorf("batch %s: count %d, %d records", b.Name, b.Count, len(b.Decisions))
			}
			for _, d := range b.Decisions {
				if d.Pod.UID == string(bound.UID) {
					found++
				}
			}
		}
		if found != 1 {
			t.Errorf("the pod's record is in %d of %d batches, want 1", found, len(list.Items))
		}
	})

	t.Run("a deleted pod keeps its record", func(t *testing.T) {
		e.deletePod(bound)
		if err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := e.cs.CoreV1().Pods(bound.Namespace).Get(ctx, bound.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		}); err != nil {
			t.Fatal(err)
		}
		if rec, err := decision.Get(e.ctx, dyn, bound.Namespace, string(bound.UID)); err != nil || rec == nil {
			t.Errorf("the record of the deleted pod: %v, %v", rec, err)
		}
	})

	t.Run("kubectl placement reads them", func(t *testing.T) {
		out, err := runExplain(explainer, "-n", bound.Namespace, "--uid", string(bound.UID))
		t.Logf("explain --uid:\n%s", out)
		if err != nil || !strings.Contains(string(out), "Decided:") || !strings.Contains(string(out), "bound to node-") {
			t.Errorf("explain --uid of the deleted pod: %v\n%s", err, out)
		}
		out, err = runPlacement(explainer, "decisions", "-n", bound.Namespace, "-o", "json")
		var list decision.DecisionList
		if err != nil || json.Unmarshal(out, &list) != nil || len(list.Items) != 2 || list.Kind != "PlacementDecisionList" {
			t.Fatalf("decisions -o json: %v, %d items\n%s", err, len(list.Items), out)
		}
		out, err = runPlacement(explainer, "decisions", "-n", bound.Namespace, "-l", "app=decided")
		if err != nil || !strings.Contains(string(out), "decided") || strings.Contains(string(out), "undecided") {
			t.Errorf("decisions -l app=decided: %v\n%s", err, out)
		}
		out, err = runPlacement(explainer, "decisions", "undecided", "-n", bound.Namespace)
		if err != nil || !strings.Contains(string(out), "unschedulable: no node fitted") {
			t.Errorf("decisions undecided: %v\n%s", err, out)
		}
		out, err = runExplain(explainer, "-n", bound.Namespace, "undecided")
		t.Logf("explain undecided:\n%s", out)
		if err != nil || !strings.Contains(string(out), "recorded by its scheduling cycle") || !strings.Contains(string(out), "Today's evaluation:") {
			t.Errorf("explain undecided: %v\n%s", err, out)
		}
		stranger := filepath.Join(t.TempDir(), "stranger.kubeconfig")
		if err := e.cluster.WriteKubeconfigAs(stranger, "eve", nil); err != nil {
			t.Fatal(err)
		}
		_, err = runPlacement(stranger, "decisions", "-n", bound.Namespace)
		if err == nil || !strings.Contains(err.Error(), "missing permission: list placementdecisions in namespace default") || !strings.Contains(err.Error(), "placement-scheduler:explainers") {
			t.Errorf("decisions as a stranger: err = %v; want the missing permission and the roles named", err)
		}
	})

	t.Run("a retried pod keeps one record, its latest attempt", func(t *testing.T) {
		pod := e.getPod(&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "undecided", Namespace: metav1.NamespaceDefault}})
		e.patchNode("node-a1", func(n *v1.Node) { n.Labels[fixtures.GPULabel] = "true" })
		if node := e.waitBound(pod, 30*time.Second); node != "node-a1" {
			t.Fatalf("bound to %s, want node-a1", node)
		}
		rec := e.waitDecision(dyn, pod, decision.Bound)
		if rec.Node != "node-a1" || rec.Attempts < 2 || rec.Name != string(pod.UID) {
			t.Errorf("record %+v; want the pod's one record, now bound to node-a1 in a later attempt", rec)
		}
		list, err := decision.List(e.ctx, dyn, decision.ListOptions{Namespace: pod.Namespace, PodName: pod.Name})
		if err != nil || len(list.Items) != 1 {
			t.Errorf("records of %s: %d, %v; want 1", pod.Name, len(list.Items), err)
		}
	})

	t.Run("readers", func(t *testing.T) {
		stranger := filepath.Join(t.TempDir(), "stranger.kubeconfig")
		if err := e.cluster.WriteKubeconfigAs(stranger, "mallory", nil); err != nil {
			t.Fatal(err)
		}
		for user, kubeconfig := range map[string]string{"explainer": explainer, "stranger": stranger} {
			cfg := e.restConfigFor(kubeconfig)
			client, err := dynamic.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := decision.Get(e.ctx, client, bound.Namespace, string(bound.UID))
			if user == "explainer" && (err != nil || rec == nil) {
				t.Errorf("an explainer reads a record: %v, %v", rec, err)
			}
			if user == "stranger" && !apierrors.IsForbidden(err) {
				t.Errorf("a user without access to the namespace reads a record: err = %v, want Forbidden", err)
			}
		}
	})
}

// waitDecision waits for pod's record with the given outcome.
func (e *env) waitDecision(dyn dynamic.Interface, pod *v1.Pod, outcome decision.Outcome) *decision.Decision {
	e.t.Helper()
	var rec *decision.Decision
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := decision.Get(ctx, dyn, pod.Namespace, string(pod.UID))
		if err != nil || got == nil {
			return false, err
		}
		rec = got
		return rec.Outcome == outcome, nil
	})
	if err != nil {
		e.t.Fatalf("waiting for the %s record of %s: %v (last: %+v)", outcome, pod.Name, err, rec)
	}
	raw, _ := json.Marshal(rec)
	e.t.Logf("record: %s", raw)
	return rec
}

// recordRejections and explainRejections print rejections alike: sorted
// "plugin/reason=count".
func recordRejections(d *decision.Decision) string {
	var out []string
	for _, r := range d.Rejections {
		out = append(out, fmt.Sprintf("%s/%s=%d", r.Plugin, r.Reason, r.Nodes))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func explainRejections(x *explain.Explanation) string {
	counts := map[string]int{}
	for _, r := range x.Rejected {
		for _, reason := range r.Reasons {
			counts[r.Plugin+"/"+reason] += len(r.Nodes)
		}
	}
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
