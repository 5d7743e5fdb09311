package integration

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/render"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

// installation is one way of deploying placement-scheduler: its objects
// and the names the test needs to find in them.
type installation struct {
	objects        []byte
	namespace      string
	serviceAccount string
	lease          string
}

// kustomizeBase renders the kustomize base, as `kubectl kustomize manifests` would.
func kustomizeBase(t *testing.T) installation {
	t.Helper()
	out, err := render.Kustomize(render.ManifestsDir())
	if err != nil {
		t.Fatal(err)
	}
	return installation{objects: out, namespace: "placement-scheduler", serviceAccount: "placement-scheduler", lease: "placement-scheduler"}
}

// helmChart renders the chart for release "ps" in namespace "scheduling"
// (created by the chart), as `helm template` would.
func helmChart(t *testing.T) installation {
	t.Helper()
	out, err := render.Helm(render.ChartDir(), render.Release{Name: "ps", Namespace: "scheduling"},
		map[string]any{"namespace": map[string]any{"create": true}})
	if err != nil {
		t.Fatal(err)
	}
	return installation{objects: out, namespace: "scheduling", serviceAccount: "ps-placement-scheduler", lease: "ps-placement-scheduler"}
}

// schedulerConfig is the configuration the installation's ConfigMap holds.
func (in installation) schedulerConfig(t *testing.T) []byte {
	t.Helper()
	objs, err := render.Objects(in.objects)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == in.namespace {
			data, _, _ := unstructured.NestedString(o.Object, "data", "scheduler-config.yaml")
			return []byte(data)
		}
	}
	t.Fatal("the rendered objects hold no scheduler ConfigMap")
	return nil
}

// TestManifestsRBAC applies the rendered kustomize base, and the rendered
// Helm chart, to an apiserver that enforces RBAC, then runs the scheduler with
// the ConfigMap's configuration as the installation's ServiceAccount, with
// leader election on: the granted rules must be enough to lead and schedule,
// and must refuse what the scheduler has no business doing.
func TestManifestsRBAC(t *testing.T) {
	for name, install := range map[string]func(*testing.T) installation{
		"kustomize": kustomizeBase,
		"helm":      helmChart,
	} {
		t.Run(name, func(t *testing.T) { testInstallation(t, install(t)) })
	}
}

func testInstallation(t *testing.T, in installation) {
	e := newEnv(t, "--authorization-mode=RBAC")
	kinds := e.apply(in.objects)
	for _, want := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("rendered manifests have no %s (got %v)", want, kinds)
		}
	}

	user, groups := localcluster.ServiceAccountUser(in.namespace, in.serviceAccount)
	asSA := filepath.Join(t.TempDir(), "scheduler.kubeconfig")
	if err := e.cluster.WriteKubeconfigAs(asSA, user, groups); err != nil {
		t.Fatal(err)
	}
	e.startScheduler(localscheduler.Options{Kubeconfig: asSA, LeaderElect: true, Config: in.schedulerConfig(t)})
	e.createNodes(fixtures.Nodes()...)

	pod := e.createPod(pausePod("rbac-probe").Obj())
	e.waitBound(pod, 60*time.Second)
	e.expectLeaseHeld(in.namespace, in.lease)
	// Its decision record, written as the scheduler's ServiceAccount.
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	e.waitDecision(dyn, pod, decision.Bound)

	sa := e.clientFor(asSA)
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	node := fixtures.Nodes()[0]
	refused := map[string]func() error{
		"list secrets": func() error {
			_, err := sa.CoreV1().Secrets(metav1.NamespaceSystem).List(e.ctx, metav1.ListOptions{})
			return err
		},
		"get a secret in its own namespace": func() error {
			_, err := sa.CoreV1().Secrets(in.namespace).Get(e.ctx, "x", metav1.GetOptions{})
			return err
		},
		"create a secret": func() error {
			_, err := sa.CoreV1().Secrets(in.namespace).Create(e.ctx, secret, metav1.CreateOptions{})
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
			return sa.CoreV1().ConfigMaps(in.namespace).DeleteCollection(e.ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		},
		"change its own permissions": func() error {
			return sa.RbacV1().ClusterRoles().Delete(e.ctx, in.serviceAccount, metav1.DeleteOptions{})
		},
		// Leader election reads and renews one lease; it never lists them.
		"list leases": func() error {
			_, err := sa.CoordinationV1().Leases(in.namespace).List(e.ctx, metav1.ListOptions{})
			return err
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
