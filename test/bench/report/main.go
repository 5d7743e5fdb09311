// Command report turns the data items of a `make bench` run into a table on
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
	"sort"
	"strings"
	"time"
)

// dataItems is the JSON scheduler_perf writes to -data-items-dir.
type dataItems struct {
	DataItems []struct {
		Data   map[string]float64 `json:"data"`
		Unit   string             `json:"unit"`
		Labels map[string]string  `json:"labels"`
	} `json:"dataItems"`
}

// Result is one workload at one size, measured with both profiles.
type Result struct {
	Workload string `json:"workload"`
	Size     string `json:"size"`
	// Throughput is the average pods/s while measuring, per profile.
	Throughput map[string]float64 `json:"podsPerSecond"`
	// PluginMillis is the summed average execution time (ms) per extension
	// point of the placement rules: in-tree plugins for "default", ours for
	// "placement".
	PluginMillis map[string]map[string]float64 `json:"pluginMillis"`
}

// Ratio is placement's throughput over default's; 0 when unknown.
func (r Result) Ratio() float64 {
	if r.Throughput["default"] == 0 {
		return 0
	}
	return r.Throughput["placement"] / r.Throughput["default"]
}

// Results is the results file.
type Results struct {
	Date    string   `json:"date"`
	Machine string   `json:"machine"`
	Results []Result `json:"results"`
}

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

// load reads the newest data items file in dir.
func load(dir string) (Results, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "BenchmarkPerfScheduling_*.json"))
	if len(files) == 0 {
		return Results{}, fmt.Errorf("no BenchmarkPerfScheduling_*.json in %s", dir)
	}
	sort.Strings(files)
	raw, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		return Results{}, err
	}
	var items dataItems
	if err := json.Unmarshal(raw, &items); err != nil {
		return Results{}, fmt.Errorf("%s: %w", files[len(files)-1], err)
	}
	return Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Results: collect(items)}, nil
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
		case it.Labels["Metric"] == "SchedulingThroughput":
			r.Throughput[profile] = it.Data["Average"]
		case it.Labels["Metric"] == "scheduler_plugin_execution_duration_seconds" && placementPlugins[it.Labels["plugin"]]:
			if r.PluginMillis[profile] == nil {
				r.PluginMillis[profile] = map[string]float64{}
			}
			r.PluginMillis[profile][it.Labels["extension_point"]] += toMillis(it.Data["Average"], it.Unit)
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
	fmt.Fprintln(w, "| workload | size | default pods/s | placement pods/s | ratio | Filter ms per call (default → ours) | Score ms per call (default → ours) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|---|")
	for _, r := range res.Results {
		_, err := fmt.Fprintf(w, "| %s | %s | %.1f | %.1f | %s | %s | %s |\n", r.Workload, r.Size,
			r.Throughput["default"], r.Throughput["placement"], ratio(r), pair(r, "Filter"), pair(r, "Score"))
		if err != nil {
			return err
		}
	}
	return nil
}

func ratio(r Result) string {
	if x := r.Ratio(); x > 0 {
		return fmt.Sprintf("%.2f×", x)
	}
	return "–"
}

func pair(r Result, point string) string {
	d, p := r.PluginMillis["default"][point], r.PluginMillis["placement"][point]
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
