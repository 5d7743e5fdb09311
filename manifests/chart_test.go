package manifests_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/internal/render"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// The release the kustomize base corresponds to.
var defaultRelease = render.Release{Name: "placement-scheduler", Namespace: "placement-scheduler"}

// renderChart renders the chart with values, failing the test on an error.
func renderChart(t *testing.T, rel render.Release, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	out, err := render.Helm(render.ChartDir(), rel, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	objs, err := render.Objects(out)
	if err != nil {
		t.Fatalf("reading the rendered chart: %v\n%s", err, out)
	}
	return objs
}

// renderKustomize builds the kustomize base, failing the test on an error.
func renderKustomize(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	stream, err := render.Kustomize(render.ManifestsDir())
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Objects(stream)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// values parses a YAML values document.
func values(t *testing.T, doc string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			return o
		}
	}
	return nil
}

// schedulerConfig loads the rendered ConfigMap's configuration the way the
// scheduler does, and checks it with our own start-up checks.
func schedulerConfig(t *testing.T, objs []*unstructured.Unstructured) *config.KubeSchedulerConfiguration {
	t.Helper()
	cm := find(objs, "ConfigMap", "")
	if cm == nil {
		t.Fatal("the chart renders no ConfigMap")
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", "scheduler-config.yaml")
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, _ := ktesting.NewTestContext(t)
	cfg, err := options.LoadConfigFromFile(logger, path)
	if err != nil {
		t.Fatalf("the scheduler cannot load the rendered configuration: %v\n%s", err, data)
	}
	if err := plugins.CheckConfigFile(logger, path); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestChartLint runs helm's linter (the library behind `helm lint`): no
// warnings or errors, with the default values and with every option on.
func TestChartLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"defaults": nil,
		"everything on": values(t, `
namespace: {create: true}
serviceMonitor: {enabled: true}
logging: {format: json, verbosity: 4}
extraProfiles: [{schedulerName: placement-batch}]
`),
	} {
		t.Run(name, func(t *testing.T) {
			linter := lint.All(render.ChartDir(), vals, "placement-scheduler", false)
			for _, m := range linter.Messages {
				t.Logf("helm lint: %s", m)
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

// TestChartDefaultConfig: with default values the chart's configuration is
// manifests/scheduler-config.yaml, object for object, so the plugin list has
// one home.
func TestChartDefaultConfig(t *testing.T) {
	cm := find(renderChart(t, defaultRelease, nil), "ConfigMap", "placement-scheduler-config")
	if cm == nil {
		t.Fatal("no ConfigMap placement-scheduler-config")
	}
	rendered, _, _ := unstructured.NestedString(cm.Object, "data", "scheduler-config.yaml")
	var got, want map[string]any
	if err := yaml.Unmarshal([]byte(rendered), &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart's default configuration differs from manifests/scheduler-config.yaml (-file +chart):\n%s", diff)
	}
}

// TestChartMatchesKustomize: the chart with default values (and the
// namespace created) and the kustomize base deploy the same objects, field
// for field, once helm's bookkeeping labels, the config checksum and
// kustomize's ConfigMap name suffix are set aside.
func TestChartMatchesKustomize(t *testing.T) {
	base := renderKustomize(t)
	chart := renderChart(t, defaultRelease, values(t, "namespace: {create: true}"))

	index := func(objs []*unstructured.Unstructured) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, o := range objs {
			n := normalize(t, o)
			out[o.GetKind()+" "+n.GetNamespace()+"/"+n.GetName()] = n.Object
		}
		return out
	}
	want, got := index(base), index(chart)
	for key, obj := range want {
		other, ok := got[key]
		if !ok {
			t.Errorf("the chart has no %s", key)
			continue
		}
		if diff := cmp.Diff(obj, other); diff != "" {
			t.Errorf("%s differs (-kustomize +chart):\n%s", key, diff)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("the chart renders %s, the kustomize base does not", key)
		}
	}
	if len(want) < 10 {
		t.Errorf("compared only %d objects; the renderers found less than they should", len(want))
	}
}

var (
	// Labels only helm sets; the rest must agree.
	helmLabels = []string{"app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"}
	// kustomize's configMapGenerator suffixes a content hash, and writes the
	// suffixed name wherever the ConfigMap is referred to.
	hashSuffix = regexp.MustCompile(`"(placement-scheduler-config)-[a-z0-9]{10}"`)
)

// normalize sets aside what legitimately differs between the renderers.
func normalize(t *testing.T, o *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	raw, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	n := &unstructured.Unstructured{}
	if err := json.Unmarshal(hashSuffix.ReplaceAll(raw, []byte(`"$1"`)), &n.Object); err != nil {
		t.Fatal(err)
	}
	walk(n.Object, func(key string, m map[string]any) {
		switch key {
		case "labels", "matchLabels", "selector":
			for _, l := range helmLabels {
				delete(m, l)
			}
		case "annotations":
			delete(m, "checksum/config")
		}
	})
	prune(n.Object)
	if n.GetKind() == "ConfigMap" {
		data, _, _ := unstructured.NestedString(n.Object, "data", "scheduler-config.yaml")
		var parsed map[string]any
		if err := yaml.Unmarshal([]byte(data), &parsed); err != nil {
			t.Fatal(err)
		}
		n.Object["data"] = map[string]any{"scheduler-config.yaml": parsed}
	}
	return n
}

// walk calls f on every map in v with the key it is held under.
func walk(v any, f func(key string, m map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if m, ok := child.(map[string]any); ok {
				f(k, m)
			}
			walk(child, f)
		}
	case []any:
		for _, child := range v {
			walk(child, f)
		}
	}
}

// prune drops maps left empty by normalize.
func prune(m map[string]any) {
	for k, v := range m {
		if child, ok := v.(map[string]any); ok {
			prune(child)
			if len(child) == 0 {
				delete(m, k)
			}
		}
	}
}

// TestChartValues: each value reaches the object it is meant for, and every
// configuration the chart renders is one the scheduler loads.
func TestChartValues(t *testing.T) {
	rel := render.Release{Name: "sched", Namespace: "ops"}
	deployment := func(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
		u := find(objs, "Deployment", "")
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	tests := []struct {
		name   string
		values string
		check  func(t *testing.T, objs []*unstructured.Unstructured, cfg *config.KubeSchedulerConfiguration)
	}{{
		name: "defaults",
		check: func(t *testing.T, objs []*unstructured.Unstructured, cfg *config.KubeSchedulerConfiguration) {
			d := deployment(t, objs)
			c := d.Spec.Template.Spec.Containers[0]
			if want := "ghcr.io/kube-placement/placement-scheduler:" + chartAppVersion(t); c.Image != want {
				t.Errorf("image %s, want %s (the chart's appVersion)", c.Image, want)
			}
			if c.ImagePullPolicy != "IfNotPresent" {
				t.Errorf("imagePullPolicy %s", c.ImagePullPolicy)
			}
			if d.Name != "sched-placement-scheduler" || *d.Spec.Replicas != 2 {
				t.Errorf("deployment %s with %d replicas", d.Name, *d.Spec.Replicas)
			}
			le := cfg.LeaderElection
			if le.ResourceNamespace != "ops" || le.ResourceName != "sched-placement-scheduler" || !le.LeaderElect {
				t.Errorf("leader election %+v: want the release's own lease", le)
			}
			if find(objs, "Namespace", "") != nil || find(objs, "ServiceMonitor", "") != nil || find(objs, "ClusterRole", "sched-placement-scheduler-evict") != nil {
				t.Error("Namespace, ServiceMonitor and the evict role are off by default")
			}
			for _, kind := range []string{"PodDisruptionBudget", "Service", "ServiceAccount", "ClusterRole", "Role", "RoleBinding", "ClusterRoleBinding"} {
				if find(objs, kind, "") == nil {
					t.Errorf("no %s", kind)
				}
			}
		},
	}, {
		name:   "the evict role, on",
		values: "evict: {enabled: true, group: ops:movers}\n",
		check: func(t *testing.T, objs []*unstructured.Unstructured, _ *config.KubeSchedulerConfiguration) {
			role, binding := find(objs, "ClusterRole", "sched-placement-scheduler-evict"), find(objs, "ClusterRoleBinding", "sched-placement-scheduler-evict")
			if role == nil || binding == nil {
				t.Fatal("no evict ClusterRole or binding")
			}
			want := decodeOne(t, manifests.EvictRBAC, "ClusterRole")
			if diff := cmp.Diff(want.Object["rules"], role.Object["rules"]); diff != "" {
				t.Errorf("the chart's evict rules differ from manifests/evict-rbac.yaml (-manifest +chart):\n%s", diff)
			}
			subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
			if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != "ops:movers" {
				t.Errorf("subjects %v, want the group ops:movers", subjects)
			}
		},
	}, {
		name: "image, replicas, pod placement and resources",
		values: `
image: {repository: registry.example/ps, tag: v9.9.9, pullPolicy: Always}
replicaCount: 3
priorityClassName: high
nodeSelector: {node-role.kubernetes.io/control-plane: ""}
tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}}}
resources: {requests: {cpu: 200m, memory: 1Gi}, limits: {memory: 2Gi}}
`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, _ *config.KubeSchedulerConfiguration) {
			d := deployment(t, objs)
			spec := d.Spec.Template.Spec
			c := spec.Containers[0]
			if c.Image != "registry.example/ps:v9.9.9" || c.ImagePullPolicy != "Always" || *d.Spec.Replicas != 3 {
				t.Errorf("image %s %s, replicas %d", c.Image, c.ImagePullPolicy, *d.Spec.Replicas)
			}
			if spec.PriorityClassName != "high" || len(spec.NodeSelector) != 1 || len(spec.Tolerations) != 1 {
				t.Errorf("priorityClassName %q, nodeSelector %v, tolerations %v", spec.PriorityClassName, spec.NodeSelector, spec.Tolerations)
			}
			if spec.Affinity.NodeAffinity == nil || spec.Affinity.PodAntiAffinity != nil {
				t.Errorf("affinity %+v: want the given one instead of the default spread", spec.Affinity)
			}
			if c.Resources.Limits.Memory().String() != "2Gi" || c.Resources.Requests.Cpu().String() != "200m" {
				t.Errorf("resources %+v", c.Resources)
			}
			if len(c.Env) != 1 || c.Env[0].Name != "GOMEMLIMIT" || c.Env[0].ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
				t.Errorf("env %+v, want GOMEMLIMIT from limits.memory", c.Env)
			}
		},
	}, {
		name:   "no memory limit, no GOMEMLIMIT",
		values: `resources: {limits: null}`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, _ *config.KubeSchedulerConfiguration) {
			c := deployment(t, objs).Spec.Template.Spec.Containers[0]
			if len(c.Env) != 0 || c.Resources.Limits != nil {
				t.Errorf("env %+v, limits %v; want neither", c.Env, c.Resources.Limits)
			}
		},
	}, {
		name:   "json logs",
		values: `logging: {format: json, verbosity: 4}`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, _ *config.KubeSchedulerConfiguration) {
			args := deployment(t, objs).Spec.Template.Spec.Containers[0].Args
			if !reflect.DeepEqual(args[1:], []string{"--v=4", "--logging-format=json"}) {
				t.Errorf("args %v", args)
			}
		},
	}, {
		name:   "decision records: args, and off",
		values: `plugins: {decisions: {topNodes: 9, retention: 90m, maxRecords: 123, queueSize: 45}}`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, cfg *config.KubeSchedulerConfiguration) {
			got, err := decisionArgs(cfg.Profiles[0])
			if err != nil || got.TopNodes != 9 || got.Retention != 90*time.Minute || got.MaxRecords != 123 || got.QueueSize != 45 {
				t.Errorf("PlacementDecisions args %+v, %v", got, err)
			}
		},
	}, {
		name:   "decision records off",
		values: `plugins: {decisions: {enabled: false}}`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, cfg *config.KubeSchedulerConfiguration) {
			p := cfg.Profiles[0]
			for _, pl := range p.Plugins.MultiPoint.Enabled {
				if pl.Name == decisions.Name {
					t.Error("PlacementDecisions is still enabled")
				}
			}
			for _, pc := range p.PluginConfig {
				if pc.Name == decisions.Name {
					t.Error("PlacementDecisions still has args")
				}
			}
			if n := len(p.Plugins.MultiPoint.Enabled); n < 10 {
				t.Errorf("%d plugins left; only PlacementDecisions should go", n)
			}
		},
	}, {
		name: "plugin args, scheduler name, lease and extra profiles",
		values: `
schedulerName: default-scheduler
leaderElection: {resourceName: my-lease, leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 4s}
plugins:
  podAffinity: {hardPodAffinityWeight: 7, ignorePreferredTermsOfExistingPods: true}
  nodeAffinity:
    addedAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [batch]}]}]
extraProfiles:
  - schedulerName: placement-batch
  - schedulerName: placement-light
    plugins: {multiPoint: {enabled: [{name: PrioritySort}, {name: PlacementNodeName}, {name: DefaultBinder}], disabled: [{name: "*"}]}}
    pluginConfig: []
`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, cfg *config.KubeSchedulerConfiguration) {
			le := cfg.LeaderElection
			if le.ResourceName != "my-lease" || le.LeaseDuration.Duration.String() != "30s" || le.RenewDeadline.Duration.String() != "20s" || le.RetryPeriod.Duration.String() != "4s" {
				t.Errorf("leader election %+v", le)
			}
			role := find(objs, "Role", "sched-placement-scheduler-leader-election")
			names, _, _ := unstructured.NestedSlice(role.Object, "rules")
			if !strings.Contains(stringOf(names), "my-lease") {
				t.Errorf("leader-election Role does not name the lease my-lease: %v", names)
			}
			var got []string
			for _, p := range cfg.Profiles {
				got = append(got, p.SchedulerName)
			}
			if !reflect.DeepEqual(got, []string{"default-scheduler", "placement-batch", "placement-light"}) {
				t.Fatalf("profiles %v", got)
			}
			for _, p := range cfg.Profiles[:2] {
				if n := len(p.Plugins.MultiPoint.Enabled); n != len(cfg.Profiles[0].Plugins.MultiPoint.Enabled) || n < 10 {
					t.Errorf("profile %s has %d multiPoint plugins, want the main profile's", p.SchedulerName, n)
				}
				checkPluginArgs(t, p)
			}
			if n := len(cfg.Profiles[2].Plugins.MultiPoint.Enabled); n != 3 {
				t.Errorf("profile placement-light has %d multiPoint plugins, want its own 3", n)
			}
		},
	}, {
		name:   "service monitor and namespace",
		values: `{serviceMonitor: {enabled: true, interval: 1m, labels: {release: prom}}, namespace: {create: true}}`,
		check: func(t *testing.T, objs []*unstructured.Unstructured, _ *config.KubeSchedulerConfiguration) {
			sm := find(objs, "ServiceMonitor", "")
			if sm == nil || sm.GetLabels()["release"] != "prom" {
				t.Fatalf("ServiceMonitor %v", sm)
			}
			eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			if s := stringOf(eps); !strings.Contains(s, "https") || !strings.Contains(s, "1m") {
				t.Errorf("ServiceMonitor endpoints %s", s)
			}
			if ns := find(objs, "Namespace", "ops"); ns == nil {
				t.Error("no Namespace ops")
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vals map[string]any
			if tc.values != "" {
				vals = values(t, tc.values)
			}
			objs := renderChart(t, rel, vals)
			tc.check(t, objs, schedulerConfig(t, objs))
		})
	}
}

// checkPluginArgs decodes our plugins' args from a profile as the plugins
// themselves do, and wants the values of the plugin-args test case.
func checkPluginArgs(t *testing.T, p config.KubeSchedulerProfile) {
	t.Helper()
	seen := 0
	for _, pc := range p.PluginConfig {
		switch pc.Name {
		case podaffinity.Name:
			a, err := podaffinity.ParseArgs(pc.Args)
			if err != nil {
				t.Fatal(err)
			}
			if *a.HardPodAffinityWeight != 7 || !a.IgnorePreferredTermsOfExistingPods {
				t.Errorf("profile %s: %s args %+v", p.SchedulerName, pc.Name, a)
			}
			seen++
		case nodeaffinity.Name:
			a, err := nodeaffinity.ParseArgs(pc.Args)
			if err != nil {
				t.Fatal(err)
			}
			if a.AddedAffinity == nil || a.AddedAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				t.Errorf("profile %s: %s args %+v", p.SchedulerName, pc.Name, a)
			}
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("profile %s carries args for %d of our 2 configurable plugins", p.SchedulerName, seen)
	}
}

func stringOf(v any) string {
	out, _ := yaml.Marshal(v)
	return string(out)
}

// TestChartRejectsBadValues: values.schema.json (and the chart's own
// checks) stop a wrong value before anything reaches the cluster, naming it.
func TestChartRejectsBadValues(t *testing.T) {
	tests := []struct{ values, want string }{
		{`replicaCount: two`, "replicaCount"},
		{`replicaCount: 0`, "replicaCount"},
		{`replicas: 2`, "replicas"},
		{`image: {pullPolicy: Sometimes}`, "pullPolicy"},
		{`image: {registry: x}`, "registry"},
		{`plugins: {podAffinity: {hardPodAffinityWeight: 101}}`, "hardPodAffinityWeight"},
		{`plugins: {podAffinity: {hardPodAffinityWeight: "1"}}`, "hardPodAffinityWeight"},
		{`plugins: {podAffinity: {ignorePreferredTermsOfExistingPods: "yes"}}`, "ignorePreferredTermsOfExistingPods"},
		{`plugins: {nodeAffinity: {addedAffinity: {required: {}}}}`, "addedAffinity"},
		{`plugins: {interPodAffinity: {}}`, "interPodAffinity"},
		{`logging: {format: xml}`, "format"},
		{`logging: {verbosity: high}`, "verbosity"},
		{`leaderElection: {leaseDuration: 15}`, "leaseDuration"},
		{`leaderElection: {leaseDuration: soon}`, "leaseDuration"},
		{`extraProfiles: [{plugins: {}}]`, "schedulerName"},
		{`extraProfiles: [{schedulerName: x, weight: 3}]`, "weight"},
		{`nodeSelector: {zone: 1}`, "nodeSelector"},
		{`resources: {request: {cpu: 1}}`, "request"},
		{`serviceMonitor: {enabled: "true"}`, "enabled"},
		{`leaderElection: {enabled: false}`, "leaderElection.enabled"},
		{`plugins: {decisions: {topNodes: 0}}`, "topNodes"},
		{`plugins: {decisions: {retention: a day}}`, "retention"},
		{`plugins: {decisions: {maxRecord: 10}}`, "maxRecord"},
		{`plugins: {decisions: {enabled: "no"}}`, "enabled"},
	}
	ch, err := loader.Load(render.ChartDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.values, func(t *testing.T) {
			_, err := render.HelmChart(ch, defaultRelease, values(t, tc.values))
			if err == nil {
				t.Fatalf("values %s accepted", tc.values)
			}
			t.Logf("%v", err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q:\n%v", tc.want, err)
			}
		})
	}
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	ch, err := loader.Load(render.ChartDir())
	if err != nil {
		t.Fatal(err)
	}
	return ch.Metadata.AppVersion
}

// decisionArgs parses the profile's PlacementDecisions args as the plugin does.
func decisionArgs(p config.KubeSchedulerProfile) (decision.Config, error) {
	for _, pc := range p.PluginConfig {
		if pc.Name == decisions.Name {
			return decisions.ParseArgs(pc.Args)
		}
	}
	return decision.Config{}, fmt.Errorf("no PlacementDecisions args")
}

// TestVersionsAgree: our release is written once, in VERSION; the chart and
// the kustomize base must deploy that release.
func TestVersionsAgree(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	release := strings.TrimSpace(string(raw))
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(release) {
		t.Fatalf("VERSION %q is not a semantic version with a leading v", release)
	}
	ch, err := loader.Load(render.ChartDir())
	if err != nil {
		t.Fatal(err)
	}
	if ch.Metadata.AppVersion != release || "v"+ch.Metadata.Version != release {
		t.Errorf("Chart.yaml version %s, appVersion %s; VERSION says %s", ch.Metadata.Version, ch.Metadata.AppVersion, release)
	}
	d := find(renderKustomize(t), "Deployment", "placement-scheduler")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	image := containers[0].(map[string]any)["image"]
	if want := "ghcr.io/kube-placement/placement-scheduler:" + release; image != want {
		t.Errorf("the kustomize base deploys %v, want %s", image, want)
	}
}

// decodeOne returns the first object of kind in a multi-document manifest.
func decodeOne(t *testing.T, data []byte, kind string) *unstructured.Unstructured {
	t.Helper()
	reader := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		if err := reader.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if obj["kind"] == kind {
			return &unstructured.Unstructured{Object: obj}
		}
	}
	t.Fatalf("no %s in the manifest", kind)
	return nil
}
