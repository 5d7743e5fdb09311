package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestDriftEvictReplicaSet: a ReplicaSet's pod drifts off its nodeSelector;
// `drift --evict --dry-run=none` evicts it, the ReplicaSet controller
// creates a replacement and our scheduler binds it where drift said.
func TestDriftEvictReplicaSet(t *testing.T) {
	e, _ := newExplainEnv(t)
	e.startReplicaSetController()
	const pool = "drift.test/pool"
	e.patchNode("node-a1", func(n *v1.Node) { n.Labels[pool] = "blue" })
	labels := map[string]string{"app": "movable"}
	template := pausePod("").NodeSelector(map[string]string{pool: "blue"}).Obj()
	template.Labels = labels
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "movable"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: template.Spec},
		},
	}
	if _, err := e.cs.AppsV1().ReplicaSets("default").Create(e.ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first := e.waitReplica("app=movable", "", 30*time.Second)
	if first.Spec.NodeName != "node-a1" {
		t.Fatalf("the replica went to %s, want node-a1, the only blue node", first.Spec.NodeName)
	}
	e.markRunning(first.Name)
	e.patchNode("node-a1", func(n *v1.Node) { n.Labels[pool] = "green" })
	e.patchNode("node-b1", func(n *v1.Node) { n.Labels[pool] = "blue" })

	e.apply(manifests.EvictRBAC)
	evictor := filepath.Join(t.TempDir(), "evictor.kubeconfig")
	if err := e.cluster.WriteKubeconfigAs(evictor, "erin", []string{"placement-scheduler:explainers", "placement-scheduler:evictors"}); err != nil {
		t.Fatal(err)
	}
	out, err := runPlacement(evictor, "drift", "-n", "default", "--evict", "--dry-run=none", "-o", "json")
	if err != nil {
		t.Fatalf("drift --evict: %v\n%s", err, out)
	}
	var d explain.Drift
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("drift -o json: %v\n%s", err, out)
	}
	if len(d.Pods) != 1 || d.Pods[0].Name != first.Name || len(d.Pods[0].Pick) != 1 || len(d.Evictions) != 1 || d.Evictions[0].Outcome != "Evicted" {
		t.Fatalf("drift: pods %+v, evictions %+v; want %s evicted with one pick", d.Pods, d.Evictions, first.Name)
	}
	replacement := e.waitReplica("app=movable", first.Name, 30*time.Second)
	if want := d.Pods[0].Pick[0]; replacement.Spec.NodeName != want {
		t.Errorf("the replacement %s went to %s; drift said %s", replacement.Name, replacement.Spec.NodeName, want)
	}
}

// startReplicaSetController runs kube-controller-manager's ReplicaSet
// controller until the test ends.
func (e *env) startReplicaSetController() {
	e.t.Helper()
	// Its own context: Shutdown waits for the informers, which must be told
	// to stop first, and the test's context ends only after the cleanups.
	ctx, cancel := context.WithCancel(e.ctx)
	factory := informers.NewSharedInformerFactory(e.cs, 0)
	rsc := replicaset.NewReplicaSetController(ctx, factory.Apps().V1().ReplicaSets(), factory.Core().V1().Pods(), e.cs, replicaset.BurstReplicas)
	factory.Start(ctx.Done())
	e.t.Cleanup(func() {
		cancel()
		factory.Shutdown()
	})
	go rsc.Run(ctx, 1)
}

// waitReplica waits for a bound pod matching selector, other than the one
// named old and not being deleted.
func (e *env) waitReplica(selector, old string, timeout time.Duration) *v1.Pod {
	e.t.Helper()
	var found *v1.Pod
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := e.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		for i, p := range pods.Items {
			if p.Name != old && p.DeletionTimestamp == nil && p.Spec.NodeName != "" {
				found = &pods.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("no bound pod %s (other than %q) within %v: %v", selector, old, timeout, err)
	}
	return found
}
