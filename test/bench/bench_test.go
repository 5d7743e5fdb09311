package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"sigs.k8s.io/yaml"

	_ "k8s.io/component-base/logs/json/register"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
)

// Profile names, as they appear in benchmark and data item names. FastPath
// is the default profile with the alpha InterPodAffinityHostnameFastPath gate
// on; it runs for the test cases that set fastPathToo.
const (
	Default   = "default"
	Placement = "placement"
	FastPath  = "fastpath"
)

// fastPathKey marks a test case of workloads.yaml to run with FastPath too;
// it is ours, so it is removed before scheduler_perf reads the case.
const fastPathKey = "fastPathToo"

func TestMain(m *testing.M) {
	if err := perf.InitTests(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func BenchmarkPerfSchedulingPlacement(b *testing.B) {
	dir := b.TempDir()
	configs := map[string]string{
		Default:   writeFile(b, dir, "default.yaml", defaultConfig(b)),
		Placement: writeFile(b, dir, "placement.yaml", placementConfig(b)),
	}
	configs[FastPath] = configs[Default]
	workloads := writeFile(b, dir, "workloads.yaml", bothProfiles(b, configs))
	registry, err := benchRegistry()
	if err != nil {
		b.Fatal(err)
	}
	perf.RunBenchmarkPerfScheduling(b, workloads, "placement", registry)
}

// benchRegistry is our plugins with PlacementPodAffinity timed, plus the CPU
// probe that every profile of the benchmark runs.
func benchRegistry() (frameworkruntime.Registry, error) {
	registry, err := timed(plugins.Registry())
	if err != nil {
		return nil, err
	}
	registry[CPUProbe] = newCPUProbe
	return registry, nil
}

// defaultConfig is the default profile, in-tree plugins only, plus the CPU
// probe.
func defaultConfig(b testing.TB) []byte {
	profile := map[string]any{"schedulerName": "default-scheduler"}
	withCPUProbe(profile)
	out, err := yaml.Marshal(map[string]any{
		"apiVersion": "kubescheduler.config.k8s.io/v1",
		"kind":       "KubeSchedulerConfiguration",
		"profiles":   []any{profile},
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// placementConfig is the deployable configuration, with its profile renamed so
// that the harness's pods (which name no scheduler) are ours to schedule, plus
// the CPU probe.
func placementConfig(b testing.TB) []byte {
	var cfg map[string]any
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &cfg); err != nil {
		b.Fatal(err)
	}
	delete(cfg, "leaderElection")
	profiles, _ := cfg["profiles"].([]any)
	if len(profiles) != 1 {
		b.Fatalf("manifests/scheduler-config.yaml has %d profiles, want 1", len(profiles))
	}
	profile := profiles[0].(map[string]any)
	profile["schedulerName"] = "default-scheduler"
	withCPUProbe(profile)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// withCPUProbe adds the CPU probe to a profile's multiPoint plugins, after
// the ones it has (with none listed, the default plugins run beside it).
func withCPUProbe(profile map[string]any) {
	plugins, _ := profile["plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
		profile["plugins"] = plugins
	}
	multiPoint, _ := plugins["multiPoint"].(map[string]any)
	if multiPoint == nil {
		multiPoint = map[string]any{}
		plugins["multiPoint"] = multiPoint
	}
	enabled, _ := multiPoint["enabled"].([]any)
	multiPoint["enabled"] = append(enabled, map[string]any{"name": CPUProbe})
}

// roundEnv is the round number `make perf*` passes (ROUNDS=n); the order of
// the profiles flips with it too, so that over an even number of rounds each
// profile of every workload runs first equally often.
const roundEnv = "PLACEMENT_BENCH_ROUND"

// bothProfiles turns each test case of workloads.yaml into two, one per
// profile, alternating which runs first so neither always gets the warmer
// machine, and asks both to report our and the in-tree plugins' timings.
func bothProfiles(b *testing.B, configs map[string]string) []byte {
	round := 0
	if v := os.Getenv(roundEnv); v != "" {
		var err error
		if round, err = strconv.Atoi(v); err != nil {
			b.Fatalf("%s=%q: %v", roundEnv, v, err)
		}
	}
	cases, err := readWorkloads()
	if err != nil {
		b.Fatal(err)
	}
	var out []map[string]any
	for i, tc := range cases {
		order := []string{Default, Placement}
		if tc[fastPathKey] == true {
			order = append(order, FastPath)
		}
		delete(tc, fastPathKey)
		if (i+round)%2 == 1 {
			slices.Reverse(order)
		}
		for _, profile := range order {
			c := map[string]any{}
			for k, v := range tc {
				c[k] = v
			}
			c["name"] = fmt.Sprintf("%s_%s", tc["name"], profile)
			c["schedulerConfigPath"] = configs[profile]
			if profile == FastPath {
				c["featureGates"] = map[string]bool{"InterPodAffinityHostnameFastPath": true}
			}
			c["metricsCollectorConfig"] = pluginMetrics(measuredNamespaces(tc))
			out = append(out, c)
		}
	}
	data, err := yaml.Marshal(out)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// readWorkloads returns the test cases of workloads.yaml.
func readWorkloads() ([]map[string]any, error) {
	raw, err := os.ReadFile("workloads.yaml")
	if err != nil {
		return nil, err
	}
	var cases []map[string]any
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		return nil, fmt.Errorf("workloads.yaml: %w", err)
	}
	return cases, nil
}

// pluginMetrics samples the execution times of our plugins and of the
// in-tree plugins they replace, and collects CycleMetric and CPUMetric for
// the pods in namespaces.
func pluginMetrics(namespaces []string) map[string]any {
	var names []string
	for name := range plugins.Registry() {
		names = append(names, name)
	}
	for _, twin := range plugins.Twins {
		if !slices.Contains(names, twin) {
			names = append(names, twin)
		}
	}
	slices.Sort(names)
	collected := map[string]any{
		"scheduler_plugin_execution_duration_seconds": []map[string]any{
			{"label": "plugin", "values": names},
			{"label": "extension_point", "values": []string{"PreFilter", "Filter", "PreScore", "Score"}},
		},
		"scheduler_scheduling_attempt_duration_seconds": []map[string]any{
			{"label": "result", "values": []string{"scheduled"}},
		},
	}
	if len(namespaces) > 0 {
		collected[CycleMetric] = []map[string]any{
			{"label": "extension_point", "values": []string{"PreFilter", "PreScore"}},
			{"label": "namespace", "values": namespaces},
		}
		collected[CPUMetric] = []map[string]any{{"label": "namespace", "values": namespaces}}
	}
	return map[string]any{"metrics": collected}
}

func writeFile(b *testing.B, dir, name string, data any) string {
	var raw []byte
	switch d := data.(type) {
	case string:
		raw = []byte(d)
	case []byte:
		raw = d
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}
