package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is what measure found.
type report struct {
	shape    shape
	rounds   int
	populate time.Duration
	rows     []row
	// heap are the scheduler binary's runs, when it was measured, and
	// heapCommand how to measure them again.
	heap        []heapRun
	heapCommand string
}

// row is one command's samples, one per round.
type row struct {
	command command
	samples []sample
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func (r row) walls() []time.Duration {
	var out []time.Duration
	for _, s := range r.samples {
		out = append(out, s.wall)
	}
	return out
}

func (r row) cpus() []time.Duration {
	var out []time.Duration
	for _, s := range r.samples {
		out = append(out, s.cpu)
	}
	return out
}

func (r row) rss() []int64 {
	var out []int64
	for _, s := range r.samples {
		out = append(out, s.maxRSS)
	}
	return out
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
func mib(b int64) string             { return fmt.Sprintf("%d MiB", b>>20) }

// markdown is the report as docs/scale.md prints it.
func (r *report) markdown() string {
	var b strings.Builder
	pods := r.shape.nodes * r.shape.podsPerNode
	fmt.Fprintf(&b, "# kubectl placement at scale\n\n")
	fmt.Fprintf(&b, "Every command against the in-process API server (etcd and kube-apiserver in the\n")
	fmt.Fprintf(&b, "harness's process, on the same %d cores) holding %d nodes in %d zones and %d bound pods\n", runtime.NumCPU(), r.shape.nodes, zones, pods)
	fmt.Fprintf(&b, "in %d namespaces (plus %d pending), each command a separate process of the built binary;\n", r.shape.namespaces, pendingPods)
	fmt.Fprintf(&b, "medians of up to %d runs (min–max), CPU time of the command's process, peak memory its maximum\n", r.rounds)
	fmt.Fprintf(&b, "resident set. Filling the cluster took %s. Produced by `make scale` (test/scale).\n\n", seconds(r.populate))
	fmt.Fprintf(&b, "| command | runs | wall time | CPU time | peak memory |\n|---|---|---|---|---|\n")
	for _, row := range r.rows {
		w, c, m := row.walls(), row.cpus(), row.rss()
		fmt.Fprintf(&b, "| `%s` — %s | %d | %s (%s–%s) | %s | %s (max %s) |\n",
			strings.Join(row.command.args[:1], " "), row.command.name, len(row.samples),
			seconds(median(w)), seconds(slices.Min(w)), seconds(slices.Max(w)),
			seconds(median(c)), mib(median(m)), mib(slices.Max(m)))
	}
	r.heapMarkdown(&b)
	return b.String()
}

// heapMarkdown is the scheduler's heap with recording on and off.
func (r *report) heapMarkdown(b *strings.Builder) {
	if len(r.heap) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## The scheduler's heap with decision recording on and off\n\n")
	fmt.Fprintf(b, "The placement-scheduler binary in the same cluster, started once per mode and round (alternating\n")
	fmt.Fprintf(b, "which goes first), with the deployable configuration or the same without PlacementDecisions;\n")
	fmt.Fprintf(b, "each run lists the cluster, binds %d new pods (hostname anti-affinity among them) and, with\n", r.shape.newPods())
	fmt.Fprintf(b, "recording on, writes every record; then `/metrics` and `/proc` are read %d times a second apart.\n", heapReads)
	fmt.Fprintf(b, "The live heap is what the last garbage collection found live (`go_gc_heap_live_bytes`); the heap\n")
	fmt.Fprintf(b, "in use swings with the collector's cycle, so each run waits for a collection after its work.\n")
	fmt.Fprintf(b, "Medians over the runs of each run's medians. Produced by %s.\n\n", r.heapCommand)
	fmt.Fprintf(b, "| recording | runs | live heap | heap in use | resident set | records written |\n|---|---|---|---|---|---|\n")
	var lives [2]int64
	for i, on := range []bool{true, false} {
		var live, use, rss, written []int64
		for _, h := range r.heap {
			if h.recording == on {
				live, use, rss, written = append(live, h.heapLive), append(use, h.heapInuse), append(rss, h.rss), append(written, h.written)
			}
		}
		if len(live) == 0 {
			return
		}
		lives[i] = median(live)
		records := "—" // the metric is not there without the plugin
		if w := median(written); w >= 0 {
			records = fmt.Sprint(w)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s |\n", map[bool]string{true: "on", false: "off"}[on], len(live),
			mib(median(live)), mib(median(use)), mib(median(rss)), records)
	}
	fmt.Fprintf(b, "\nRecording on minus off, live heap: %+d MiB (%+.1f %%).\n", (lives[0]-lives[1])>>20, 100*float64(lives[0]-lives[1])/float64(lives[1]))
}
