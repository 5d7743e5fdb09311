package manifests_test

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/klog/v2/ktesting"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/kube-placement/placement-scheduler/manifests"
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
// placement plugins swapped for ours in place. Upgrading Kubernetes with a
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
