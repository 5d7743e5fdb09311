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
	return b.String()
}
