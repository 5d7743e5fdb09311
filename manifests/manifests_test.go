package manifests_test

import (
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
)

// ours maps each in-tree plugin our profile replaces to its replacement(s), in
// the order they stand in the profile.
var ours = map[string][]string{
	"NodeName":         {"PlacementNodeName"},
	"TaintToleration":  {"PlacementTaintToleration"},
	"NodeAffinity":     {"PlacementNodeAffinity", "PlacementNodeSelector"},
	"InterPodAffinity": {"PlacementPodAffinity"},
}

type entry struct {
	name   string
	weight int32
}

// TestProfileMirrorsDefaultPlugins: the profile must be kube-scheduler's
// default plugin list, in its order and with its weights, with the in-tree
// placement plugins swapped for ours in place, and PlacementDecisions (which
// filters and scores nothing) last. Upgrading Kubernetes with a
// changed default list fails here, not in production.
func TestProfileMirrorsDefaultPlugins(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, manifests.SchedulerConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := options.LoadConfigFromFile(logger, path)
	if err != nil {
		t.Fatalf("the scheduler cannot load manifests/scheduler-config.yaml: %v", err)
	}
	if len(cfg.Profiles) != 1 || cfg.Profiles[0].SchedulerName != "placement-scheduler" {
		t.Fatalf("want one profile named placement-scheduler, got %d", len(cfg.Profiles))
	}

	var want []entry
	for _, p := range defaultMultiPoint(t) {
		if repl, ok := ours[p.name]; ok {
			for i, r := range repl {
				w := p.weight
				if i > 0 {
					w = 0 // the selector half has no score
				}
				want = append(want, entry{r, w})
			}
			continue
		}
		want = append(want, p)
	}
	want = append(want, entry{decisions.Name, 0})
	var got []entry
	for _, p := range cfg.Profiles[0].Plugins.MultiPoint.Enabled {
		got = append(got, entry{p.Name, p.Weight})
	}
	if len(got) != len(want) {
		t.Fatalf("multiPoint plugins:\n got %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("multiPoint plugin %d: got %v, want %v", i, got[i], want[i])
		}
	}
	le := cfg.LeaderElection
	if !le.LeaderElect || le.ResourceNamespace != "placement-scheduler" || le.ResourceName != "placement-scheduler" {
		t.Errorf("leader election %+v: want our own lease placement-scheduler/placement-scheduler", le)
	}
}

// defaultMultiPoint is the default profile's multiPoint list as the scheduler
// computes it from its defaults and the current feature gates.
func defaultMultiPoint(t *testing.T) []entry {
	var v1cfg configv1.KubeSchedulerConfiguration
	scheme.Scheme.Default(&v1cfg)
	var internal config.KubeSchedulerConfiguration
	if err := scheme.Scheme.Convert(&v1cfg, &internal, nil); err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, p := range internal.Profiles[0].Plugins.MultiPoint.Enabled {
		out = append(out, entry{p.Name, p.Weight})
	}
	return out
}

// TestDeploymentLeastPrivilege reads the Deployment as shipped: it must run
// non-root, read-only, without privilege escalation or capabilities, under the
// RuntimeDefault seccomp profile, as two replicas with probes.
func TestDeploymentLeastPrivilege(t *testing.T) {
	raw, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(raw, &d); err != nil {
		t.Fatal(err)
	}
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want at least 2 for fail-over", d.Spec.Replicas)
	}
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", sc)
	}
	if spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken {
		t.Errorf("the scheduler needs its ServiceAccount token")
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
			t.Errorf("container %s securityContext %+v: want read-only root, no privilege escalation, all capabilities dropped", c.Name, sc)
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("container %s lacks liveness or readiness probe", c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("container %s lacks resource requests", c.Name)
		}
	}
}
