package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/kubectlplacement"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// requests records every request the CLI sends.
type requests struct {
	mu   sync.Mutex
	seen []string
}

func (r *requests) wrap(c *rest.Config) *rest.Config {
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.seen = append(r.seen, req.Method+" "+req.URL.Path)
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// writes returns the requests that could change anything: all but GETs
// and access reviews (which ask, and store nothing).
func (r *requests) writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.seen {
		if !strings.HasPrefix(s, "GET ") && s != "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
			out = append(out, s)
		}
	}
	return out
}

// placement runs a kubectl-placement command as kubeconfig's user, records
// its requests in rec, and decodes its JSON answer into answer.
func placement(t *testing.T, rec *requests, kubeconfig string, answer any, args ...string) {
	t.Helper()
	conn := genericclioptions.NewConfigFlags(true)
	conn.WrapConfigFn = rec.wrap
	var out bytes.Buffer
	cmd := kubectlplacement.NewCommandWithFlags(&out, conn)
	cmd.SetArgs(append(args, "--kubeconfig", kubeconfig, "-o", "json"))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("kubectl placement %v: %v", args, err)
	}
	if err := json.Unmarshal(out.Bytes(), answer); err != nil {
		t.Fatalf("kubectl placement %v -o json: %v\n%s", args, err, out.String())
	}
}

// outcome is what the scheduler did with a set of pods.
type outcome struct {
	byNode, byZone map[string]int
	bound          int
	// unschedulable are the pods marked PodScheduled=False, Unschedulable.
	unschedulable []*v1.Pod
}

// settle waits until each of the namespace's pods is bound or marked
// unschedulable, and returns what the scheduler did.
func (e *env) settle(namespace string, want int) outcome {
	e.t.Helper()
	zones := map[string]string{}
	for _, n := range fixtures.Nodes() {
		zones[n.Name] = n.Labels[fixtures.ZoneLabel]
	}
	var o outcome
	err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := e.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		o = outcome{byNode: map[string]int{}, byZone: map[string]int{}}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Spec.NodeName != "" {
				o.bound++
				o.byNode[p.Spec.NodeName]++
				o.byZone[zones[p.Spec.NodeName]]++
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable {
					o.unschedulable = append(o.unschedulable, p)
				}
			}
		}
		return len(pods.Items) == want && o.bound+len(o.unschedulable) == want, nil
	})
	if err != nil {
		e.t.Fatalf("namespace %s: %d bound, %d unschedulable, want %d settled: %v", namespace, o.bound, len(o.unschedulable), want, err)
	}
	return o
}

// createReplicas creates, for real, the first n pods the workload in file
// would create: exactly the pods simulate placed.
func (e *env) createReplicas(file, namespace string, n int) {
	e.t.Helper()
	ws, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: namespace, Replicas: n})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range ws[0].Replicas {
		p := ws[0].Pod(i)
		p.UID = ""
		e.createPod(p)
	}
}

// clear deletes the namespace's pods and waits until they are gone.
func (e *env) clear(namespace string) {
	e.t.Helper()
	zero := metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}
	if err := e.cs.CoreV1().Pods(namespace).DeleteCollection(e.ctx, zero, metav1.ListOptions{}); err != nil {
		e.t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := e.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0, err
	})
	if err != nil {
		e.t.Fatalf("pods of %s not gone: %v", namespace, err)
	}
}

func manifestFile(t *testing.T, manifest string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "workload.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSimulateAgreesWithScheduler: for workloads whose outcome does not
// depend on the random pick among equal scores, the pods simulate placed,
// created for real, bind where it said and the rest stay pending; capacity's
// N copies bind and copy N+1 stays pending with its reason. The CLI runs as
// an explainer under RBAC, and sends no request that writes.
func TestSimulateAgreesWithScheduler(t *testing.T) {
	e, explainer := newExplainEnv(t)
	rec := &requests{}

	scenarios := []struct {
		name     string
		manifest string
		// perNode compares node by node; otherwise zone by zone.
		perNode bool
	}{
		{"hostname anti-affinity", fixtures.DeploymentYAML("spread", 8, "100m", `      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: spread}}, topologyKey: kubernetes.io/hostname}
`), true},
		{"zone-required affinity and resources running out", fixtures.DeploymentYAML("zoned", 7, "1500m", `      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [zone-b]}]
`), false},
		{"nodeSelector", fixtures.DeploymentYAML("ssd", 4, "1500m", "      nodeSelector: {disktype: ssd}\n"), true},
		{"taints", fixtures.DeploymentYAML("gpu", 3, "1500m", `      nodeSelector: {gpu: "true"}
      tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
`), true},
	}
	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			namespace := fmt.Sprintf("sim-%d", i)
			if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			file := manifestFile(t, sc.manifest)
			var sim explain.Simulation
			placement(t, rec, explainer, &sim, "simulate", "-f", file, "-n", namespace)
			w := sim.Workloads[0]
			if w.Placed == 0 || w.Pending == 0 {
				t.Fatalf("simulated %d placed, %d pending; the scenario should do both", w.Placed, w.Pending)
			}
			e.createReplicas(file, namespace, w.Replicas)
			got := e.settle(namespace, w.Replicas)
			if got.bound != w.Placed || len(got.unschedulable) != w.Pending {
				t.Errorf("scheduler bound %d, left %d pending; simulate said %d and %d", got.bound, len(got.unschedulable), w.Placed, w.Pending)
			}
			want, have := countsOf(w.ByZone), got.byZone
			if sc.perNode {
				want, have = countsOf(w.ByNode), got.byNode
			}
			if fmt.Sprint(want) != fmt.Sprint(have) {
				t.Errorf("scheduler placed %v, simulate said %v", have, want)
			}
			if len(got.unschedulable) > 0 {
				event := e.waitFailedScheduling(got.unschedulable[0], 30*time.Second)
				if !strings.HasPrefix(event, w.FirstPending.Unschedulable) {
					t.Errorf("FailedScheduling says %q,\nsimulate said %q", event, w.FirstPending.Unschedulable)
				}
			}
			e.clear(namespace)
		})
	}

	t.Run("capacity", func(t *testing.T) {
		namespace := "capacity"
		if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		file := manifestFile(t, fixtures.DeploymentYAML("big", 1, "1500m", ""))
		var c explain.CapacityReport
		placement(t, rec, explainer, &c, "capacity", "-f", file, "-n", namespace)
		// Two per 4-CPU node, on the five nodes without a taint.
		if c.Fits != 10 || c.Limited || c.Next == nil {
			t.Fatalf("capacity: fits %d, limited %v, next %+v; want 10 and a reason", c.Fits, c.Limited, c.Next)
		}
		e.createReplicas(file, namespace, c.Fits+1)
		got := e.settle(namespace, c.Fits+1)
		if got.bound != c.Fits || len(got.unschedulable) != 1 {
			t.Fatalf("bound %d, pending %d; capacity said %d fit", got.bound, len(got.unschedulable), c.Fits)
		}
		if fmt.Sprint(countsOf(c.ByNode)) != fmt.Sprint(got.byNode) {
			t.Errorf("scheduler placed %v, capacity said %v", got.byNode, countsOf(c.ByNode))
		}
		event := e.waitFailedScheduling(got.unschedulable[0], 30*time.Second)
		if !strings.HasPrefix(event, c.Next.Unschedulable) || !strings.Contains(event, "Insufficient cpu") {
			t.Errorf("FailedScheduling says %q,\ncapacity said %q", event, c.Next.Unschedulable)
		}
	})

	t.Run("all pending", func(t *testing.T) {
		var pending explain.PendingPods
		placement(t, rec, explainer, &pending, "explain", "--all-pending", "-A")
		if len(pending.Pods) != 1 || pending.Pods[0].Namespace != "capacity" || pending.Pods[0].Blocker == nil {
			t.Fatalf("pending %+v, want the capacity test's last copy", pending.Pods)
		}
		if b := pending.Pods[0].Blocker; b.Plugin != "NodeResourcesFit" || len(b.Nodes) != 5 {
			t.Errorf("blocker %+v, want NodeResourcesFit on 5 nodes", b)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		if w := rec.writes(); len(w) > 0 {
			t.Errorf("kubectl placement sent requests that may write: %v", w)
		}
		if len(rec.seen) == 0 {
			t.Error("no request recorded")
		}
	})
}

func countsOf(c []explain.Count) map[string]int {
	m := map[string]int{}
	for _, x := range c {
		m[x.Name] = x.Pods
	}
	return m
}
