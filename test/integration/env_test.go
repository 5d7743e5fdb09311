// Package integration tests placement-scheduler against a real kube-apiserver
// and etcd started in-process, one control plane per test; the shared helpers
// are in env_test.go.
package integration

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
)

// deployNamespace is where manifests/scheduler-config.yaml keeps its lease.
const deployNamespace = "placement-scheduler"

// env is one control plane for one test, with helpers that fail the test.
type env struct {
	t          *testing.T
	ctx        context.Context
	cluster    *localcluster.Cluster
	cs         kubernetes.Interface
	kubeconfig string
}

// newEnv starts etcd and an apiserver (with extra apiserver flags) and stops
// them when the test ends.
func newEnv(t *testing.T, apiserverFlags ...string) *env {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	cluster, err := localcluster.Start(ctx, localcluster.Options{APIServerFlags: apiserverFlags})
	if err != nil {
		t.Fatalf("starting control plane: %v", err)
	}
	t.Cleanup(cluster.Stop)
	e := &env{t: t, ctx: ctx, cluster: cluster, kubeconfig: filepath.Join(t.TempDir(), "kubeconfig")}
	if err := cluster.WriteKubeconfig(e.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if e.cs, err = kubernetes.NewForConfig(cluster.Config); err != nil {
		t.Fatal(err)
	}
	return e
}

// startScheduler runs placement-scheduler with the deployable configuration
// (unless o says otherwise) until the test ends.
func (e *env) startScheduler(o localscheduler.Options) *localscheduler.Scheduler {
	e.t.Helper()
	if o.Kubeconfig == "" {
		o.Kubeconfig = e.kubeconfig
	}
	o.Flags = append([]string{"--secure-port=0"}, o.Flags...)
	s, err := localscheduler.Start(e.ctx, o)
	if err != nil {
		e.t.Fatalf("starting placement-scheduler: %v", err)
	}
	e.t.Cleanup(s.Stop)
	return s
}

func (e *env) createNodes(nodes ...*v1.Node) {
	e.t.Helper()
	if err := fixtures.CreateNodes(e.ctx, e.cs, nodes); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) createPod(pod *v1.Pod) *v1.Pod {
	e.t.Helper()
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	created, err := e.cs.CoreV1().Pods(pod.Namespace).Create(e.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
	return created
}

func (e *env) getPod(pod *v1.Pod) *v1.Pod {
	e.t.Helper()
	got, err := e.cs.CoreV1().Pods(pod.Namespace).Get(e.ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// waitBound waits for pod to be bound and returns its node.
func (e *env) waitBound(pod *v1.Pod, timeout time.Duration) string {
	e.t.Helper()
	return e.waitPod(pod, timeout, "bound", func(_ context.Context, p *v1.Pod) (string, error) {
		return p.Spec.NodeName, nil
	})
}

// waitFailedScheduling waits for a FailedScheduling event on pod and returns
// its message.
func (e *env) waitFailedScheduling(pod *v1.Pod, timeout time.Duration) string {
	e.t.Helper()
	return e.waitPod(pod, timeout, "given a FailedScheduling event", func(ctx context.Context, p *v1.Pod) (string, error) {
		return fixtures.FailedSchedulingMessage(ctx, e.cs, p)
	})
}

// waitPod polls pod until observe returns a non-empty answer, and returns it.
func (e *env) waitPod(pod *v1.Pod, timeout time.Duration, what string, observe func(context.Context, *v1.Pod) (string, error)) string {
	e.t.Helper()
	var answer string
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := e.cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		answer, err = observe(ctx, p)
		return answer != "", err
	})
	if err != nil {
		e.t.Fatalf("pod %s/%s not %s within %v: %v", pod.Namespace, pod.Name, what, timeout, err)
	}
	return answer
}
