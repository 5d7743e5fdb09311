// Package integration tests placement-scheduler against a real kube-apiserver
// and etcd started in-process, one control plane per test; the shared helpers
// are in env_test.go.
package integration

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"

	st "k8s.io/kubernetes/pkg/scheduler/testing"

	rbacv1 "k8s.io/api/rbac/v1"

	authorizationv1 "k8s.io/api/authorization/v1"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/render"
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

// deletePod deletes at once: there is no kubelet to end a graceful deletion.
func (e *env) deletePod(pod *v1.Pod) {
	e.t.Helper()
	if err := e.cs.CoreV1().Pods(pod.Namespace).Delete(e.ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) waitBoundCount(want int, timeout time.Duration) {
	e.t.Helper()
	bound := 0
	err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := e.cs.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		bound = 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound >= want, nil
	})
	if err != nil {
		e.t.Fatalf("%d pods bound within %v, want %d: %v", bound, timeout, want, err)
	}
}

func (e *env) waitAllowed(user string, attrs authorizationv1.ResourceAttributes) {
	e.t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: &attrs}}
	err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := e.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed, nil
	})
	if err != nil {
		e.t.Fatalf("%s never allowed to %s %s: %v", user, attrs.Verb, attrs.Resource, err)
	}
}

// grant binds a new ClusterRole with rules to user.
func (e *env) grant(user string, rules ...rbacv1.PolicyRule) {
	e.t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}
	if _, err := e.cs.RbacV1().ClusterRoles().Create(e.ctx, role, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := e.cs.RbacV1().ClusterRoleBindings().Create(e.ctx, binding, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	// The authorizer reads roles through its own informers: wait until it
	// allows what was granted, or the next request may still be refused.
	for _, r := range rules {
		e.waitAllowed(user, authorizationv1.ResourceAttributes{Group: r.APIGroups[0], Resource: r.Resources[0], Verb: r.Verbs[0], Namespace: "default"})
	}
}

func (e *env) clientFor(kubeconfig string) kubernetes.Interface {
	e.t.Helper()
	cs, err := kubernetes.NewForConfig(e.restConfigFor(kubeconfig))
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

func (e *env) restConfigFor(kubeconfig string) *rest.Config {
	e.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// apply server-side-applies every object of a YAML stream and returns their kinds.
func (e *env) apply(data []byte) []string {
	e.t.Helper()
	objs, err := render.Objects(data)
	if err != nil {
		e.t.Fatal(err)
	}
	kinds, err := e.cluster.Apply(e.ctx, objs)
	if err != nil {
		e.t.Fatal(err)
	}
	return kinds
}

func (e *env) expectLeaseHeld(namespace, name string) {
	e.t.Helper()
	var lease *coordinationv1.Lease
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		lease, err = e.cs.CoordinationV1().Leases(namespace).Get(ctx, name, metav1.GetOptions{})
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", nil
	})
	if err != nil {
		e.t.Fatalf("lease %s/%s not held: %v", namespace, name, err)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	// The scheduler serves a self-signed certificate.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

func freePort(t *testing.T) int {
	ports, err := localcluster.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

func (e *env) patchNode(name string, mutate func(*v1.Node)) {
	e.t.Helper()
	node, err := e.cs.CoreV1().Nodes().Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	mutate(node)
	if _, err := e.cs.CoreV1().Nodes().Update(e.ctx, node, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

func pausePod(name string) *st.PodWrapper {
	return st.MakePod().Namespace(metav1.NamespaceDefault).Name(name).SchedulerName(ourScheduler).
		Container("registry.k8s.io/pause:3.10").Req(map[v1.ResourceName]string{v1.ResourceCPU: "100m"})
}
