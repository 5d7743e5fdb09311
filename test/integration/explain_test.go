package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestExplain runs `kubectl placement explain` against a cluster that
// enforces RBAC, as a user holding only the manifests' explain roles, with
// the configuration read through the scheduler's Deployment.
func TestExplain(t *testing.T) {
	e, explainer := newExplainEnv(t)

	t.Run("pending pod: same reasons as FailedScheduling", func(t *testing.T) {
		pod := e.createPod(pausePod("explain-pending").NodeSelector(map[string]string{fixtures.GPULabel: "true"}).Obj())
		event := e.waitFailedScheduling(pod, 30*time.Second)
		got := e.explain(t, explainer, "pod/"+pod.Name, "-n", pod.Namespace)
		if got.Unschedulable == "" || !strings.HasPrefix(event, got.Unschedulable) {
			t.Errorf("explain says %q,\nFailedScheduling says %q", got.Unschedulable, event)
		}
		rejected := 0
		for _, g := range got.Rejected {
			rejected += len(g.Nodes)
		}
		if rejected != got.Nodes || len(got.Feasible) != 0 {
			t.Errorf("%d of %d nodes rejected, %d feasible; want all rejected", rejected, got.Nodes, len(got.Feasible))
		}
	})

	t.Run("bound pod: its node is the best now", func(t *testing.T) {
		pod := e.createPod(pausePod("explain-bound").NodeAffinity(&v1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{{Weight: 10, Preference: v1.NodeSelectorTerm{
				MatchExpressions: []v1.NodeSelectorRequirement{{Key: fixtures.ZoneLabel, Operator: v1.NodeSelectorOpIn, Values: []string{"zone-b"}}},
			}}},
		}).Obj())
		node := e.waitBound(pod, 30*time.Second)
		got := e.explain(t, explainer, pod.Name, "-n", pod.Namespace)
		if got.BoundNode != node || got.Bound == nil || got.Bound.Rank != 1 || !slices.Contains(got.Pick, node) {
			t.Errorf("bound to %s; explain: boundNode %q, bound %+v, pick %v", node, got.BoundNode, got.Bound, got.Pick)
		}
	})

	t.Run("the explainers read the scheduler's ConfigMap and no other", func(t *testing.T) {
		other := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: deployNamespace}}
		if _, err := e.cs.CoreV1().ConfigMaps(deployNamespace).Create(e.ctx, other, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := e.clientFor(explainer).CoreV1().ConfigMaps(deployNamespace).Get(e.ctx, other.Name, metav1.GetOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("get configmap %s/%s as an explainer: err = %v, want Forbidden", deployNamespace, other.Name, err)
		}
	})

	t.Run("pod file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "pod.yaml")
		manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: would-be}\nspec:\n  schedulerName: placement-scheduler\n  nodeSelector: {disktype: ssd}\n  containers: [{name: app, image: registry.k8s.io/pause:3.10}]\n"
		if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		got := e.explain(t, explainer, "--pod-file", file)
		if len(got.Pick) != 1 || got.Pick[0] != "node-b2" {
			t.Errorf("pick %v, want [node-b2]", got.Pick)
		}
	})

	t.Run("clear errors", func(t *testing.T) {
		stranger := filepath.Join(t.TempDir(), "stranger.kubeconfig")
		if err := e.cluster.WriteKubeconfigAs(stranger, "bob", nil); err != nil {
			t.Fatal(err)
		}
		unreachable := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
		if err := os.WriteFile(unreachable, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: x}}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, kubeconfig string
			args             []string
			want             string
		}{
			{"missing pod", explainer, []string{"pod/nope"}, "pods default/nope not found"},
			{"no permission", stranger, []string{"pod/explain-pending"}, "missing permission: get pods in namespace default"},
			{"unreachable", unreachable, []string{"pod/x"}, "cannot reach the cluster"},
			{"not a pod", explainer, []string{"deploy/x"}, "explain takes pods"},
			{"bad output", explainer, []string{"x", "-o", "table"}, `--output "table": want one of text, wide, json, yaml`},
		}
		for _, tc := range tests {
			_, err := runExplain(tc.kubeconfig, append([]string{"-n", "default"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
			}
		}
	})

	t.Run("missing list permission is named", func(t *testing.T) {
		// May get pods, nothing more.
		partial := filepath.Join(t.TempDir(), "partial.kubeconfig")
		if err := e.cluster.WriteKubeconfigAs(partial, "carol", nil); err != nil {
			t.Fatal(err)
		}
		e.grant("carol", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}})
		_, err := runExplain(partial, "-n", "default", "pod/explain-pending", "--config", writeConfig(t))
		if err == nil || !strings.Contains(err.Error(), "missing permissions") || !strings.Contains(err.Error(), "list nodes") || strings.Contains(err.Error(), "get pods") ||
			!strings.Contains(err.Error(), "placement-scheduler-explain (kustomize base) or RELEASE-explain (Helm chart") {
			t.Errorf("err = %v, want one naming the missing permissions and the roles that grant them", err)
		}
	})
}

// newExplainEnv starts a control plane that enforces RBAC, applies the
// kustomize base, creates the demo nodes and runs our scheduler; it returns
// a kubeconfig for a user in the explainers group, who holds only the
// manifests' explain roles.
func newExplainEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, "--authorization-mode=RBAC")
	e.apply(kustomizeBase(t).objects)
	// Nodes before the scheduler: it syncs its cache before the first cycle,
	// so every FailedScheduling message counts all of them (created after
	// it, a lagging node informer could make the first message count fewer).
	e.createNodes(fixtures.Nodes()...)
	e.startScheduler(localscheduler.Options{})
	explainer := filepath.Join(t.TempDir(), "explainer.kubeconfig")
	if err := e.cluster.WriteKubeconfigAs(explainer, "alice", []string{"placement-scheduler:explainers"}); err != nil {
		t.Fatal(err)
	}
	return e, explainer
}

func writeConfig(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	cfg, err := os.ReadFile(filepath.Join("..", "..", "manifests", "scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func runExplain(kubeconfig string, args ...string) ([]byte, error) {
	return runPlacement(kubeconfig, append([]string{"explain"}, args...)...)
}

func (e *env) explain(t *testing.T, kubeconfig string, args ...string) *explain.Explanation {
	t.Helper()
	start := time.Now()
	out, err := runExplain(kubeconfig, append(args, "-o", "json")...)
	if err != nil {
		t.Fatalf("explain %v: %v", args, err)
	}
	t.Logf("explain %v took %v", args, time.Since(start))
	var got explain.Explanation
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("explain -o json: %v\n%s", err, out)
	}
	return &got
}
