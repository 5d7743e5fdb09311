package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kube-placement/placement-scheduler/pkg/localcluster"
	"github.com/kube-placement/placement-scheduler/pkg/localscheduler"
	"github.com/kube-placement/placement-scheduler/pkg/sandbox"
)

const (
	deployNamespace = "placement-scheduler"
	serviceAccount  = "placement-scheduler"
)

// renderManifests runs `kubectl kustomize manifests`, as an operator would.
func renderManifests(t *testing.T) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "manifests")
	out, err := exec.Command("kubectl", "kustomize", dir).Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, exitErr.Stderr)
		}
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	return out
}

// apply server-side-applies every object of a YAML stream and returns their kinds.
func (e *env) apply(data []byte) []string {
	e.t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(e.cluster.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	reader := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := reader.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return kinds
		} else if err != nil {
			e.t.Fatal(err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			e.t.Fatalf("mapping %s: %v", gvk, err)
		}
		var client dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			client = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
		}
		if _, err := client.Apply(e.ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "placement-integration", Force: true}); err != nil {
			e.t.Fatalf("applying %s %s/%s: %v", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		kinds = append(kinds, gvk.Kind)
	}
}

// TestManifestsRBAC applies the rendered manifests to an apiserver that
// enforces RBAC, then runs the scheduler as the manifests' ServiceAccount with
// leader election on: the granted rules must be enough to lead and schedule,
// and must refuse what the scheduler has no business doing.
func TestManifestsRBAC(t *testing.T) {
	e := newEnv(t, "--authorization-mode=RBAC")
	kinds := e.apply(renderManifests(t))
	for _, want := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Deployment"} {
		if !contains(kinds, want) {
			t.Errorf("rendered manifests have no %s (got %v)", want, kinds)
		}
	}

	user, groups := localcluster.ServiceAccountUser(deployNamespace, serviceAccount)
	asSA := filepath.Join(t.TempDir(), "scheduler.kubeconfig")
	if err := e.cluster.WriteKubeconfigAs(asSA, user, groups); err != nil {
		t.Fatal(err)
	}
	e.startScheduler(localscheduler.Options{Kubeconfig: asSA, LeaderElect: true})
	e.createNodes(sandbox.Nodes()...)

	pod := e.createPod(pausePod("rbac-probe").Obj())
	e.waitBound(pod, 60*time.Second)
	e.expectLeaseHeld(deployNamespace, "placement-scheduler")

	sa := e.clientFor(asSA)
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	node := sandbox.Nodes()[0]
	refused := map[string]func() error{
		"list secrets": func() error {
			_, err := sa.CoreV1().Secrets(metav1.NamespaceSystem).List(e.ctx, metav1.ListOptions{})
			return err
		},
		"get a secret in its own namespace": func() error {
			_, err := sa.CoreV1().Secrets(deployNamespace).Get(e.ctx, "x", metav1.GetOptions{})
			return err
		},
		"create a secret": func() error {
			_, err := sa.CoreV1().Secrets(deployNamespace).Create(e.ctx, secret, metav1.CreateOptions{})
			return err
		},
		"create a pod": func() error {
			_, err := sa.CoreV1().Pods(metav1.NamespaceDefault).Create(e.ctx, pausePod("intruder").Obj(), metav1.CreateOptions{})
			return err
		},
		"update a node": func() error {
			_, err := sa.CoreV1().Nodes().Update(e.ctx, node, metav1.UpdateOptions{})
			return err
		},
		"delete a node": func() error {
			return sa.CoreV1().Nodes().Delete(e.ctx, node.Name, metav1.DeleteOptions{})
		},
		"edit its own configuration": func() error {
			return sa.CoreV1().ConfigMaps(deployNamespace).DeleteCollection(e.ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		},
		"change its own permissions": func() error {
			return sa.RbacV1().ClusterRoles().Delete(e.ctx, serviceAccount, metav1.DeleteOptions{})
		},
		// The default scheduler's lock is not ours to read or take.
		"read the default scheduler's lease": func() error {
			_, err := sa.CoordinationV1().Leases(metav1.NamespaceSystem).Get(e.ctx, "kube-scheduler", metav1.GetOptions{})
			return err
		},
	}
	for what, call := range refused {
		if err := call(); !apierrors.IsForbidden(err) {
			t.Errorf("%s as the scheduler: err = %v, want Forbidden", what, err)
		}
	}
}

func (e *env) clientFor(kubeconfig string) kubernetes.Interface {
	e.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		e.t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
