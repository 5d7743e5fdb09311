package main

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kube-placement/placement-scheduler/test/bench"
)

func TestCollectAndTable(t *testing.T) {
	var items dataItems
	add := func(name, metric, unit string, labels map[string]string, data map[string]float64) {
		l := map[string]string{"Name": name, "Metric": metric}
		for k, v := range labels {
			l[k] = v
		}
		items.DataItems = append(items.DataItems, struct {
			Data   map[string]float64 `json:"data"`
			Unit   string             `json:"unit"`
			Labels map[string]string  `json:"labels"`
		}{Data: data, Unit: unit, Labels: l})
	}
	add("B/PodAffinity_default/500Nodes/sched-1", "SchedulingThroughput", "pods/s", nil, map[string]float64{"Average": 100})
	add("B/PodAffinity_placement/500Nodes/sched-1", "SchedulingThroughput", "pods/s", nil, map[string]float64{"Average": 250})
	add("B/PodAffinity_default/500Nodes/sched-1", "scheduler_plugin_execution_duration_seconds", "ms", map[string]string{"plugin": "InterPodAffinity", "extension_point": "Filter"}, map[string]float64{"Average": 0.5})
	add("B/PodAffinity_placement/500Nodes/sched-1", "scheduler_plugin_execution_duration_seconds", "ms", map[string]string{"plugin": "PlacementPodAffinity", "extension_point": "Filter"}, map[string]float64{"Average": 0.1})
	add("B/PodAffinity_placement/500Nodes/sched-1", "scheduler_plugin_execution_duration_seconds", "ms", map[string]string{"plugin": "NodeResourcesFit", "extension_point": "Filter"}, map[string]float64{"Average": 9})
	add("B/PodAffinity_placement/500Nodes/sched-1", "scheduler_plugin_execution_duration_seconds", "ms", map[string]string{"plugin": "PlacementPodAffinity", "extension_point": "PreFilter"}, map[string]float64{"Average": 0.2, "Perc99": 1.5})
	add("B/PodAffinity_default/500Nodes/sched-1", "scheduler_plugin_execution_duration_seconds", "ms", map[string]string{"plugin": "InterPodAffinity", "extension_point": "PreScore"}, map[string]float64{"Average": 2, "Perc99": 9})
	add("B/PodAffinity_placement/500Nodes/sched-1", bench.CycleMetric, "ms", map[string]string{"extension_point": "PreFilter", "namespace": "sched-1"}, map[string]float64{"Average": 0.3, "Perc50": 0.25, "Perc99": 2})
	add("B/PodAffinity_placement/500Nodes/sched-1", bench.CycleMetric, "ms", map[string]string{"extension_point": "PreScore", "namespace": "sched-1"}, map[string]float64{"Average": 0.1, "Perc50": 0.05, "Perc99": 0.5})
	add("B/PodAffinity_default/500Nodes/sched-1", bench.CPUMetric, "ms", map[string]string{"namespace": "sched-1"}, map[string]float64{"Average": 30})
	add("B/PodAffinity_placement/500Nodes/sched-1", bench.CPUMetric, "ms", map[string]string{"namespace": "sched-1"}, map[string]float64{"Average": 12})
	add("B/SchedulingBasic_placement/500Nodes/sched-1", bench.CPUMetric, "ms", map[string]string{"namespace": "sched-1"}, map[string]float64{"Average": 10})

	res := Results{Results: collect(items)}
	if len(res.Results) != 2 {
		t.Fatalf("got %d results, want 2", len(res.Results))
	}
	r := res.Results[0]
	if r.Ratio() != 2.5 {
		t.Errorf("ratio = %v, want 2.5", r.Ratio())
	}
	if got := r.PluginMillis["placement"]["Filter"]; got != 0.1 {
		t.Errorf("placement Filter ms = %v, want 0.1 (other plugins excluded)", got)
	}
	var out bytes.Buffer
	if err := writeTable(&out, res); err != nil {
		t.Fatal(err)
	}
	if want := "| PodAffinity | 500Nodes | 1 | 100.0 | 250.0 | 2.50× | 0.500 → 0.300 | 2.000 → 0.000 |"; !strings.Contains(out.String(), want) {
		t.Errorf("table:\n%s\nlacks %q", out.String(), want)
	}
	if want := "| PodAffinity | 500Nodes | – → 0.200 | – → 1.500 | 2.000 → – | 9.000 → – | 2.000 → 0.200 |"; !strings.Contains(out.String(), want) {
		t.Errorf("table:\n%s\nlacks the affinity row %q", out.String(), want)
	}
	if want := "| PodAffinity | 500Nodes | 0.300 | 0.250 | 2.000 | 0.100 | 0.050 | 0.500 | 0.400 |"; !strings.Contains(out.String(), want) {
		t.Errorf("table:\n%s\nlacks the every-cycle row %q", out.String(), want)
	}
	for _, want := range []string{
		"| PodAffinity | 500Nodes | 30.00 | – | 12.00 | 2.50× | – | 1.20× |",
		"| SchedulingBasic | 500Nodes | – | – | 10.00 | – | – | – |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table:\n%s\nlacks the CPU row %q", out.String(), want)
		}
	}
	if svg := string(chart(res)); !strings.Contains(svg, "PodAffinity (500Nodes)") || !strings.HasPrefix(svg, "<svg") {
		t.Errorf("chart lacks the workload:\n%s", svg)
	}
}

func TestCombineTakesMedianOfRounds(t *testing.T) {
	round := func(def, placement, fast float64) []Result {
		return []Result{{Workload: "PodAntiAffinity", Size: "5000Nodes",
			Throughput:     map[string]float64{"default": def, "placement": placement, FastPath: fast},
			PluginMillis:   map[string]map[string]float64{"placement": {"Filter": placement / 100}},
			AffinityMillis: map[string]map[string]float64{"placement": {"PreFilter": placement / 1000}},
			CycleMillis:    map[string]float64{"PreFilter p99": placement / 100},
			CPUMillis:      map[string]float64{"default": 10000 / def, "placement": 10000 / placement}}}
	}
	res := Results{Results: combine([][]Result{round(80, 300, 150), round(70, 200, 140), round(90, 250, 160)})}
	r := res.Results[0]
	if r.Throughput["default"] != 80 || r.Throughput["placement"] != 250 || r.Throughput[FastPath] != 150 {
		t.Errorf("medians = %v, want default 80, placement 250, fastpath 150", r.Throughput)
	}
	if got := r.PluginMillis["placement"]["Filter"]; got != 2.5 {
		t.Errorf("mean Filter ms = %v, want 2.5", got)
	}
	if got := r.AffinityMillis["placement"]["PreFilter"]; got != 0.25 {
		t.Errorf("median affinity PreFilter ms = %v, want 0.25", got)
	}
	if got := r.CycleMillis["PreFilter p99"]; got != 2.5 {
		t.Errorf("median every-cycle PreFilter p99 ms = %v, want 2.5", got)
	}
	if got, want := r.CPUMillis, (map[string]float64{"default": 10000.0 / 80, "placement": 10000.0 / 250}); !maps.Equal(got, want) {
		t.Errorf("median CPU ms per pod = %v, want %v", got, want)
	}
	if got := r.CPURounds["placement"]; !slices.Equal(got, []float64{10000.0 / 300, 10000.0 / 200, 10000.0 / 250}) {
		t.Errorf("CPU rounds of ours = %v, want each round's, in order", got)
	}
	var out bytes.Buffer
	if err := writeTable(&out, res); err != nil {
		t.Fatal(err)
	}
	if want := "| PodAntiAffinity | 5000Nodes | 3 | 80.0 | 250.0 | 3.12× | 150.0 | 1.67× |"; !strings.Contains(out.String(), want) {
		t.Errorf("table:\n%s\nlacks %q", out.String(), want)
	}
}

func TestCombineListsSizesSmallestFirst(t *testing.T) {
	result := func(workload, size string) Result {
		return Result{Workload: workload, Size: size, Throughput: map[string]float64{"default": 1, "placement": 2}}
	}
	ran := []Result{
		result("SchedulingBasic", "5000Nodes_1000InitPods"),
		result("Preferred", "5000Nodes_5000InitPods"),
		result("Preferred", "5000Nodes_10000InitPods"),
		result("SchedulingBasic", "500Nodes_1000InitPods"),
		result("Preferred", "5000Nodes_1000InitPods"),
	}
	want := []string{
		"SchedulingBasic/500Nodes_1000InitPods",
		"SchedulingBasic/5000Nodes_1000InitPods",
		"Preferred/5000Nodes_1000InitPods",
		"Preferred/5000Nodes_5000InitPods",
		"Preferred/5000Nodes_10000InitPods",
	}
	var got []string
	for _, r := range combine([][]Result{ran}) {
		got = append(got, r.Workload+"/"+r.Size)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestPageDescribesOnlyTablesItHas(t *testing.T) {
	base := Result{Workload: "PodAffinity", Size: "500Nodes", Throughput: map[string]float64{"default": 100, "placement": 250}}
	withAffinity := base
	withAffinity.AffinityMillis = map[string]map[string]float64{"placement": {"PreFilter": 0.2}}
	withCycles := withAffinity
	withCycles.CycleMillis = map[string]float64{"PreFilter": 0.3}
	withCPU := withCycles
	withCPU.CPUMillis = map[string]float64{"placement": 9}
	tables := []struct{ description, heading string }{
		{"is that plugin alone", "Inter-pod affinity plugin, once per cycle, ms"},
		{"is our plugin timed by the benchmark itself", "PlacementPodAffinity at every measured pod's cycle, ms"},
		{"is the process's user and system time", "CPU time of the benchmark process per measured pod, ms"},
	}
	for _, tc := range []struct {
		name   string
		result Result
		want   []bool // per table
	}{
		{"results from before the plugin was timed alone", base, []bool{false, false, false}},
		{"results with the plugin's own times", withAffinity, []bool{true, false, false}},
		{"results with every measured cycle timed", withCycles, []bool{true, true, false}},
		{"results with CPU time per pod", withCPU, []bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(page(Results{Results: []Result{tc.result}}, "docs"))
			for i, table := range tables {
				if strings.Contains(got, table.description) != tc.want[i] {
					t.Errorf("page describes %q: %v, want %v:\n%s", table.heading, !tc.want[i], tc.want[i], got)
				}
				if strings.Contains(got, table.heading) != tc.want[i] {
					t.Errorf("page has the table %q: %v, want %v", table.heading, !tc.want[i], tc.want[i])
				}
			}
		})
	}
}
