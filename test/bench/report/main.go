// Command report turns the data items of a `make perf*` run into a table on
// stdout and, with -docs, into docs/benchmarks.md, docs/benchmarks.json (the
// results file) and docs/benchmarks.svg (a chart drawn from that file).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kube-placement/placement-scheduler/test/bench"
)

// dataItems is the JSON scheduler_perf writes to -data-items-dir.
type dataItems struct {
	DataItems []struct {
		Data   map[string]float64 `json:"data"`
		Unit   string             `json:"unit"`
		Labels map[string]string  `json:"labels"`
	} `json:"dataItems"`
}

// Result is one workload at one size, measured with each profile.
type Result struct {
	Workload string `json:"workload"`
	Size     string `json:"size"`
	// Throughput is, per profile, the median over rounds of the average pods/s
	// while measuring.
	Throughput map[string]float64 `json:"podsPerSecond"`
	// Rounds holds each round's pods/s, per profile.
	Rounds map[string][]float64 `json:"rounds,omitempty"`
	// PluginMillis is the summed average execution time (ms) per extension
	// point of the placement rules: in-tree plugins for "default", ours for
	// "placement".
	PluginMillis map[string]map[string]float64 `json:"pluginMillis"`
	// AffinityMillis is, per profile, the inter-pod affinity plugin's
	// (InterPodAffinity, PlacementPodAffinity) once-per-cycle extension
	// points: "PreFilter", "PreScore" (mean ms) and "PreFilter p99",
	// "PreScore p99"; the median over rounds.
	AffinityMillis map[string]map[string]float64 `json:"affinityMillis,omitempty"`
	// affinityRounds holds each round's AffinityMillis while combining.
	affinityRounds map[string]map[string][]float64
	// CycleMillis is PlacementPodAffinity's once-per-cycle extension points
	// timed at every measured pod (test/bench's CycleMetric): "PreFilter",
	// "PreScore" (mean ms), "PreFilter p50", "PreFilter p99", "PreScore p50",
	// "PreScore p99"; the median over rounds.
	CycleMillis map[string]float64 `json:"cycleMillis,omitempty"`
	// cycleRounds holds each round's CycleMillis while combining.
	cycleRounds map[string][]float64
	// CPUMillis is, per profile, the benchmark process's CPU time per
	// measured pod (test/bench's CPUMetric), ms; the median over rounds.
	CPUMillis map[string]float64 `json:"cpuMillisPerPod,omitempty"`
	// CPURounds holds each round's CPUMillis, per profile.
	CPURounds map[string][]float64 `json:"cpuRounds,omitempty"`
}

// Ratio is placement's throughput over default's; 0 when unknown.
func (r Result) Ratio() float64 { return r.RatioTo("default") }

// RatioTo is placement's throughput over profile's; 0 when unknown.
func (r Result) RatioTo(profile string) float64 {
	if r.Throughput[profile] == 0 {
		return 0
	}
	return r.Throughput["placement"] / r.Throughput[profile]
}

// FastPath is the profile of in-tree plugins with the alpha
// InterPodAffinityHostnameFastPath gate on, run for some workloads only.
const FastPath = "fastpath"

// Results is the results file.
type Results struct {
	Date    string   `json:"date"`
	Machine string   `json:"machine"`
	Results []Result `json:"results"`
}

// affinityPlugins are the inter-pod affinity plugins, in-tree and ours.
var affinityPlugins = map[string]bool{"InterPodAffinity": true, "PlacementPodAffinity": true}

var placementPlugins = map[string]bool{
	"NodeName": true, "NodeAffinity": true, "TaintToleration": true, "InterPodAffinity": true,
	"PlacementNodeName": true, "PlacementNodeSelector": true, "PlacementNodeAffinity": true,
	"PlacementTaintToleration": true, "PlacementPodAffinity": true,
}

func main() {
	dir := flag.String("data", "_output/bench", "directory with the run's BenchmarkPerfScheduling_*.json")
	docs := flag.String("docs", "", "write benchmarks.md, benchmarks.json and benchmarks.svg to this directory")
	from := flag.String("results", "", "redraw from this results file (benchmarks.json) instead of a run's data items")
	flag.Parse()
	var res Results
	var err error
	if *from != "" {
		res, err = readResults(*from)
	} else {
		res, err = load(*dir)
	}
	if err == nil {
		err = writeTable(os.Stdout, res)
	}
	if err == nil && *docs != "" {
		err = writeDocs(*docs, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func readResults(path string) (Results, error) {
	var res Results
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &res)
	}
	if err != nil {
		return Results{}, fmt.Errorf("reading results file %s: %w", path, err)
	}
	return res, nil
}

// load reads every data items file in dir, one per round, and keeps the
// median pods/s of each profile and the mean plugin times.
func load(dir string) (Results, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "BenchmarkPerfScheduling_*.json"))
	if len(files) == 0 {
		return Results{}, fmt.Errorf("no BenchmarkPerfScheduling_*.json in %s", dir)
	}
	sort.Strings(files)
	var rounds [][]Result
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return Results{}, err
		}
		var items dataItems
		if err := json.Unmarshal(raw, &items); err != nil {
			return Results{}, fmt.Errorf("%s: %w", f, err)
		}
		rounds = append(rounds, collect(items))
	}
	return Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Results: combine(rounds)}, nil
}

// combine merges rounds of the same workloads: median throughput, mean
// plugin times.
func combine(rounds [][]Result) []Result {
	byKey := map[string]*Result{}
	var keys []string
	n := map[string]map[string]int{}
	for _, round := range rounds {
		for _, r := range round {
			key := r.Workload + "/" + r.Size
			m := byKey[key]
			if m == nil {
				m = &Result{Workload: r.Workload, Size: r.Size, Throughput: map[string]float64{}, Rounds: map[string][]float64{}, PluginMillis: map[string]map[string]float64{},
					affinityRounds: map[string]map[string][]float64{}, cycleRounds: map[string][]float64{}}
				byKey[key], n[key] = m, map[string]int{}
				keys = append(keys, key)
			}
			for profile, v := range r.Throughput {
				m.Rounds[profile] = append(m.Rounds[profile], v)
			}
			for profile, points := range r.AffinityMillis {
				if m.affinityRounds[profile] == nil {
					m.affinityRounds[profile] = map[string][]float64{}
				}
				for point, v := range points {
					m.affinityRounds[profile][point] = append(m.affinityRounds[profile][point], v)
				}
			}
			for point, v := range r.CycleMillis {
				m.cycleRounds[point] = append(m.cycleRounds[point], v)
			}
			for profile, v := range r.CPUMillis {
				if m.CPURounds == nil {
					m.CPURounds = map[string][]float64{}
				}
				m.CPURounds[profile] = append(m.CPURounds[profile], v)
			}
			for profile, points := range r.PluginMillis {
				if m.PluginMillis[profile] == nil {
					m.PluginMillis[profile] = map[string]float64{}
				}
				n[key][profile]++
				for point, v := range points {
					m.PluginMillis[profile][point] += v
				}
			}
		}
	}
	out := make([]Result, 0, len(keys))
	for _, k := range keys {
		m := byKey[k]
		for profile, vs := range m.Rounds {
			m.Throughput[profile] = median(vs)
		}
		for profile, points := range m.PluginMillis {
			for point := range points {
				points[point] /= float64(n[k][profile])
			}
		}
		for profile, points := range m.affinityRounds {
			if m.AffinityMillis == nil {
				m.AffinityMillis = map[string]map[string]float64{}
			}
			m.AffinityMillis[profile] = map[string]float64{}
			for point, vs := range points {
				m.AffinityMillis[profile][point] = median(vs)
			}
		}
		m.affinityRounds = nil
		for point, vs := range m.cycleRounds {
			if m.CycleMillis == nil {
				m.CycleMillis = map[string]float64{}
			}
			m.CycleMillis[point] = median(vs)
		}
		m.cycleRounds = nil
		for profile, vs := range m.CPURounds {
			if m.CPUMillis == nil {
				m.CPUMillis = map[string]float64{}
			}
			m.CPUMillis[profile] = median(vs)
		}
		out = append(out, *m)
	}
	orderSizes(out)
	return out
}

// orderSizes keeps the workloads in the order they first ran and lists each
// one's sizes smallest first: the harness runs a workload's sizes in the order
// workloads.yaml happens to list them (PreferredPodAntiAffinity has 5,000
// existing pods before 1,000), and a table read top to bottom should show how
// a workload scales.
func orderSizes(results []Result) {
	first := map[string]int{}
	for i, r := range results {
		if _, ok := first[r.Workload]; !ok {
			first[r.Workload] = i
		}
	}
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if a.Workload != b.Workload {
			return first[a.Workload] < first[b.Workload]
		}
		return slices.Compare(sizeNumbers(a.Size), sizeNumbers(b.Size)) < 0
	})
}

// sizeNumbers reads the counts in a size such as "5000Nodes_1000InitPods"
// (5000, 1000), so that 10000 sorts after 5000.
func sizeNumbers(size string) []int {
	var out []int
	for _, part := range strings.Split(size, "_") {
		digits := strings.TrimRightFunc(part, func(r rune) bool { return r < '0' || r > '9' })
		if n, err := strconv.Atoi(digits); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func median(vs []float64) float64 {
	s := append([]float64{}, vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// collect groups data items by workload and size. Names look like
// BenchmarkPerfSchedulingPlacement/<Workload>_<profile>/<size>/<namespace>.
func collect(items dataItems) []Result {
	byKey := map[string]*Result{}
	var keys []string
	for _, it := range items.DataItems {
		parts := strings.Split(it.Labels["Name"], "/")
		if len(parts) < 3 || it.Data == nil {
			continue
		}
		i := strings.LastIndex(parts[1], "_")
		if i < 0 {
			continue
		}
		workload, profile, size := parts[1][:i], parts[1][i+1:], parts[2]
		key := workload + "/" + size
		r := byKey[key]
		if r == nil {
			r = &Result{Workload: workload, Size: size, Throughput: map[string]float64{}, PluginMillis: map[string]map[string]float64{}}
			byKey[key] = r
			keys = append(keys, key)
		}
		switch {
		case it.Labels["Metric"] == bench.CycleMetric && profile == "placement":
			if r.CycleMillis == nil {
				r.CycleMillis = map[string]float64{}
			}
			point := it.Labels["extension_point"]
			r.CycleMillis[point] = toMillis(it.Data["Average"], it.Unit)
			r.CycleMillis[point+" p50"] = toMillis(it.Data["Perc50"], it.Unit)
			r.CycleMillis[point+" p99"] = toMillis(it.Data["Perc99"], it.Unit)
		case it.Labels["Metric"] == bench.CPUMetric:
			if r.CPUMillis == nil {
				r.CPUMillis = map[string]float64{}
			}
			r.CPUMillis[profile] = toMillis(it.Data["Average"], it.Unit)
		case it.Labels["Metric"] == "SchedulingThroughput":
			r.Throughput[profile] = it.Data["Average"]
		case it.Labels["Metric"] == "scheduler_plugin_execution_duration_seconds" && placementPlugins[it.Labels["plugin"]]:
			if r.PluginMillis[profile] == nil {
				r.PluginMillis[profile] = map[string]float64{}
			}
			r.PluginMillis[profile][it.Labels["extension_point"]] += toMillis(it.Data["Average"], it.Unit)
			if point := it.Labels["extension_point"]; affinityPlugins[it.Labels["plugin"]] && (point == "PreFilter" || point == "PreScore") {
				if r.AffinityMillis == nil {
					r.AffinityMillis = map[string]map[string]float64{}
				}
				if r.AffinityMillis[profile] == nil {
					r.AffinityMillis[profile] = map[string]float64{}
				}
				r.AffinityMillis[profile][point] = toMillis(it.Data["Average"], it.Unit)
				r.AffinityMillis[profile][point+" p99"] = toMillis(it.Data["Perc99"], it.Unit)
			}
		}
	}
	out := make([]Result, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

func toMillis(v float64, unit string) float64 {
	switch unit {
	case "s":
		return v * 1000
	case "us", "µs":
		return v / 1000
	}
	return v
}

func writeTable(w io.Writer, res Results) error {
	fastPath := false
	for _, r := range res.Results {
		fastPath = fastPath || r.Throughput[FastPath] > 0
	}
	head := "| workload | size | rounds | default pods/s | placement pods/s | ratio |"
	rule := "|---|---|---:|---:|---:|---:|"
	if fastPath {
		head += " fast-path pods/s | ratio to fast path |"
		rule += "---:|---:|"
	}
	fmt.Fprintln(w, head+" PreFilter + Filter ms (default → ours) | PreScore + Score ms (default → ours) |")
	fmt.Fprintln(w, rule+"---|---|")
	for _, r := range res.Results {
		row := fmt.Sprintf("| %s | %s | %d | %.1f | %.1f | %s |", r.Workload, r.Size, rounds(r),
			r.Throughput["default"], r.Throughput["placement"], ratio(r.Ratio()))
		if fastPath {
			fp := "–"
			if v := r.Throughput[FastPath]; v > 0 {
				fp = fmt.Sprintf("%.1f", v)
			}
			row += fmt.Sprintf(" %s | %s |", fp, ratio(r.RatioTo(FastPath)))
		}
		if _, err := fmt.Fprintf(w, "%s %s | %s |\n", row, pair(r, "PreFilter", "Filter"), pair(r, "PreScore", "Score")); err != nil {
			return err
		}
	}
	if err := writeAffinityTable(w, res); err != nil {
		return err
	}
	if err := writeCycleTable(w, res); err != nil {
		return err
	}
	return writeCPUTable(w, res)
}

// writeAffinityTable lists, for the workloads where an inter-pod affinity
// plugin ran, its once-per-cycle work per profile: the part of a cycle that
// can grow with the pods already placed.
func writeAffinityTable(w io.Writer, res Results) error {
	columns := []string{"PreFilter mean", "PreFilter p99", "PreScore mean", "PreScore p99", "PreFilter + PreScore mean"}
	return writeRows(w, "Inter-pod affinity plugin, once per cycle, ms (default → ours; fast path in brackets where it ran):",
		columns, "---", affinityRows(res), func(r Result) []string {
			cell := func(point string) string {
				get := func(profile string) string {
					v, ok := r.AffinityMillis[profile][point]
					if !ok {
						return "–"
					}
					return fmt.Sprintf("%.3f", v)
				}
				out := get("default") + " → " + get("placement")
				if _, ok := r.AffinityMillis[FastPath]; ok {
					out += " (" + get(FastPath) + ")"
				}
				return out
			}
			sum := func(profile string) float64 {
				return r.AffinityMillis[profile]["PreFilter"] + r.AffinityMillis[profile]["PreScore"]
			}
			total := fmt.Sprintf("%.3f → %.3f", sum("default"), sum("placement"))
			if _, ok := r.AffinityMillis[FastPath]; ok {
				total += fmt.Sprintf(" (%.3f)", sum(FastPath))
			}
			return []string{cell("PreFilter"), cell("PreFilter p99"), cell("PreScore"), cell("PreScore p99"), total}
		})
}

// affinityRows are the results that timed the inter-pod affinity plugin on
// its own.
func affinityRows(res Results) []Result {
	return rowsWith(res, func(r Result) bool { return len(r.AffinityMillis) > 0 })
}

// cycleRows are the results that timed our inter-pod affinity plugin at
// every measured pod.
func cycleRows(res Results) []Result {
	return rowsWith(res, func(r Result) bool { return len(r.CycleMillis) > 0 })
}

// rowsWith are the results that have a table's figures; results collected
// before a figure was recorded have none, and their page leaves the table
// and its description out.
func rowsWith(res Results, has func(Result) bool) []Result {
	var rows []Result
	for _, r := range res.Results {
		if has(r) {
			rows = append(rows, r)
		}
	}
	return rows
}

// writeCycleTable lists, for the workloads where our inter-pod affinity
// plugin was timed at every measured pod, its once-per-cycle work.
func writeCycleTable(w io.Writer, res Results) error {
	points := []string{"PreFilter", "PreFilter p50", "PreFilter p99", "PreScore", "PreScore p50", "PreScore p99"}
	columns := []string{"PreFilter mean", "PreFilter p50", "PreFilter p99", "PreScore mean", "PreScore p50", "PreScore p99", "PreFilter + PreScore mean"}
	return writeRows(w, "PlacementPodAffinity at every measured pod's cycle, ms:", columns, "---:", cycleRows(res), func(r Result) []string {
		var cells []string
		for _, point := range points {
			cell := "–"
			if v, ok := r.CycleMillis[point]; ok {
				cell = fmt.Sprintf("%.3f", v)
			}
			cells = append(cells, cell)
		}
		return append(cells, fmt.Sprintf("%.3f", r.CycleMillis["PreFilter"]+r.CycleMillis["PreScore"]))
	})
}

// Plain is the workload whose pods carry no placement terms at all: the
// ceiling the others are held against.
const Plain = "SchedulingBasic"

// writeCPUTable lists the process's CPU time per measured pod with each
// profile, ours against the in-tree ones, and ours against plain pods of the
// same size with ours (the cost a pod's terms add, whatever scheduled it).
func writeCPUTable(w io.Writer, res Results) error {
	plain := map[string]float64{}
	for _, r := range res.Results {
		if r.Workload == Plain {
			plain[r.Size] = r.CPUMillis["placement"]
		}
	}
	columns := []string{"default", "fast path", "ours", "default ÷ ours", "fast path ÷ ours", "ours ÷ plain pods with ours"}
	return writeRows(w, "CPU time of the benchmark process per measured pod, ms (scheduler, apiserver and harness; etcd runs apart):", columns, "---:", cpuRows(res), func(r Result) []string {
		cell := func(v float64) string {
			if v == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", v)
		}
		over := func(a, b float64) string {
			if a == 0 || b == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f×", a/b)
		}
		ours, vsPlain := r.CPUMillis["placement"], "–"
		if r.Workload != Plain {
			vsPlain = over(ours, plain[r.Size])
		}
		return []string{cell(r.CPUMillis["default"]), cell(r.CPUMillis[FastPath]), cell(ours),
			over(r.CPUMillis["default"], ours), over(r.CPUMillis[FastPath], ours), vsPlain}
	})
}

// cpuRows are the results that measured CPU time per pod.
func cpuRows(res Results) []Result {
	return rowsWith(res, func(r Result) bool { return len(r.CPUMillis) > 0 })
}

// writeRows writes a table headed by caption, a row per result: its
// workload and size, then cells(r) under columns (each aligned as align
// says). It writes nothing when there are no rows.
func writeRows(w io.Writer, caption string, columns []string, align string, rows []Result, cells func(Result) []string) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n\n| workload | size | %s |\n|---|---|%s\n", caption, strings.Join(columns, " | "), strings.Repeat(align+"|", len(columns)))
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "| %s | %s | %s |\n", r.Workload, r.Size, strings.Join(cells(r), " | ")); err != nil {
			return err
		}
	}
	return nil
}

func rounds(r Result) int {
	n := len(r.Rounds["placement"])
	return max(n, 1)
}

func ratio(x float64) string {
	if x > 0 {
		return fmt.Sprintf("%.2f×", x)
	}
	return "–"
}

// pair sums the per-call times of the given extension points, one call of
// each per cycle (Filter and Score run per node: their per-call time is one
// node's).
func pair(r Result, points ...string) string {
	var d, p float64
	for _, point := range points {
		d += r.PluginMillis["default"][point]
		p += r.PluginMillis["placement"][point]
	}
	if d == 0 && p == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f → %.3f", d, p)
}

// machine describes where the numbers come from.
func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
