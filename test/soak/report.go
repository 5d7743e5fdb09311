package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// result is what a soak saw: the samples, the faults and the bindings.
type result struct {
	o       options
	started time.Time
	churned time.Duration
	samples []sample
	faults  []faultRun
	// final is the namespace's pods once the churn stopped and they settled.
	final   podCounts
	settled bool
	// bindings answered 201, by pod uid; refused ones (the pod was deleted
	// or already bound), and binding bodies the proxy could not read.
	boundUIDs                     map[string]int
	bindings, refused, unreadable int
	doubleBinds                   int
	restarts                      int
}

type faultRun struct {
	name     string
	at, took time.Duration
	err      error
}

func (r *result) add(s sample) { r.samples = append(r.samples, s) }

// series is one column of the samples, for the charts and the table.
type series struct {
	title, unit string
	scale       float64
	get         func(sample) int64
}

var allSeries = []series{
	{"Resident set (RSS)", "MiB", 1 << 20, func(s sample) int64 { return s.rss }},
	{"Go heap in use", "MiB", 1 << 20, func(s sample) int64 { return s.heapInuse }},
	{"Goroutines", "", 1, func(s sample) int64 { return s.goroutines }},
	{"PlacementPodAffinity index views", "", 1, func(s sample) int64 { return s.indexViews }},
	{"PlacementPodAffinity index entries", "", 1, func(s sample) int64 { return s.indexEntries }},
	{"Pods in the cluster", "", 1, func(s sample) int64 { return int64(s.pods.total) }},
}

func (r *result) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %s of churn, %d faults, %d samples\n", r.churned.Round(time.Second), len(r.faults), len(r.samples))
	fmt.Fprintf(&b, "bindings %d, refused %d, bound twice %d, unreadable %d, scheduler restarts %d\n", r.bindings, r.refused, r.doubleBinds, r.unreadable, r.restarts)
	fmt.Fprintf(&b, "final pods %d: bound %d, unschedulable %d, undecided %d (settled: %v)\n", r.final.total, r.final.bound, r.final.unschedulable, r.final.unsettled, r.settled)
	for _, s := range allSeries {
		first, second := r.halves(s)
		fmt.Fprintf(&b, "%-36s first hour max %s, after it min %s max %s, last %s\n", s.title, s.format(first.max), s.format(second.min), s.format(second.max), s.format(r.last(s)))
	}
	return b.String()
}

type span struct{ min, max int64 }

// halves gives the range of a series in the first hour and after it.
func (r *result) halves(s series) (first, after span) {
	first, after = span{-1, -1}, span{-1, -1}
	for _, x := range r.samples {
		v := s.get(x)
		if v < 0 {
			continue
		}
		sp := &after
		if x.at < time.Hour {
			sp = &first
		}
		if sp.min < 0 || v < sp.min {
			sp.min = v
		}
		if v > sp.max {
			sp.max = v
		}
	}
	return first, after
}

func (r *result) last(s series) int64 {
	for _, x := range slices.Backward(r.samples) {
		if v := s.get(x); v >= 0 {
			return v
		}
	}
	return -1
}

func (s series) format(v int64) string {
	if v < 0 {
		return "–"
	}
	if s.scale == 1 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.1f %s", float64(v)/s.scale, s.unit)
}

// markdown is the report: settings, outcome, faults, and a chart per series.
func (r *result) markdown() string {
	var b strings.Builder
	b.WriteString("# Soak: the scheduler binary under churn and faults\n\n")
	b.WriteString("Written by `test/soak` (`make soak`); the raw samples are in `soak.csv` beside the report in the output directory.\n\n")
	collide := ""
	if r.o.collide {
		collide = " -collide"
	}
	fmt.Fprintf(&b, "Command: `make soak SOAK=%s SOAKFLAGS='-fault-every %s -nodes %d -seed %d%s'`\n\n",
		r.o.duration, r.o.faultEvery, r.o.nodes, r.o.seed, collide)
	b.WriteString("## Outcome\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| churn | %s, %d samples |\n", r.churned.Round(time.Minute), len(r.samples))
	fmt.Fprintf(&b, "| faults injected | %d |\n", len(r.faults))
	fmt.Fprintf(&b, "| bindings (201) | %d |\n", r.bindings)
	fmt.Fprintf(&b, "| bindings refused by the apiserver | %d |\n", r.refused)
	fmt.Fprintf(&b, "| pods bound twice | %d |\n", r.doubleBinds)
	fmt.Fprintf(&b, "| scheduler restarts | %d%s |\n", r.restarts, restartTimes(r.samples))
	fmt.Fprintf(&b, "| pods at the end | %d: %d bound, %d unschedulable, %d undecided |\n", r.final.total, r.final.bound, r.final.unschedulable, r.final.unsettled)
	b.WriteString("\n| series | first hour (max) | after the first hour (min – max) | last |\n|---|---|---|---|\n")
	for _, s := range allSeries {
		first, after := r.halves(s)
		fmt.Fprintf(&b, "| %s | %s | %s – %s | %s |\n", s.title, s.format(first.max), s.format(after.min), s.format(after.max), s.format(r.last(s)))
	}
	b.WriteString("\n## Faults\n\n| at | fault | took | error |\n|---|---|---|---|\n")
	for _, f := range r.faults {
		msg := ""
		if f.err != nil {
			msg = f.err.Error()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.at.Round(time.Second), f.name, f.took.Round(100*time.Millisecond), msg)
	}
	b.WriteString("\n## Samples, one a minute\n")
	for _, s := range allSeries {
		b.WriteString(r.chart(s))
	}
	return b.String()
}

// chart is a Mermaid line chart of one series (GitHub renders it).
func (r *result) chart(s series) string {
	var vals []string
	var maxV float64
	for _, x := range r.samples {
		v := s.get(x)
		if v < 0 {
			continue
		}
		f := float64(v) / s.scale
		maxV = max(maxV, f)
		vals = append(vals, fmt.Sprintf("%.1f", f))
	}
	if len(vals) == 0 {
		return ""
	}
	unit := s.unit
	if unit == "" {
		unit = "count"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n```mermaid\nxychart-beta\n    title %q\n    x-axis \"minutes\" 0 --> %d\n    y-axis %q 0 --> %.0f\n    line [%s]\n```\n",
		s.title, int(r.samples[len(r.samples)-1].at.Minutes()), unit, maxV*1.1+1, strings.Join(vals, ", "))
	return b.String()
}

// csv is every sample, one row a minute.
func (r *result) csv() string {
	var b strings.Builder
	b.WriteString("minute,rss_bytes,heap_inuse_bytes,heap_alloc_bytes,goroutines,index_views,index_entries,pods,bound,unschedulable,undecided,restarts,fault\n")
	for _, x := range r.samples {
		fmt.Fprintf(&b, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%s\n", x.at.Minutes(), x.rss, x.heapInuse, x.heapAlloc, x.goroutines,
			x.indexViews, x.indexEntries, x.pods.total, x.pods.bound, x.pods.unschedulable, x.pods.unsettled, x.restarts, x.fault)
	}
	return b.String()
}

// restartTimes says when the scheduler was started again, from the samples'
// restart counts: the memory series begin anew there.
func restartTimes(samples []sample) string {
	var at []string
	for i := 1; i < len(samples); i++ {
		if samples[i].restarts > samples[i-1].restarts {
			at = append(at, fmt.Sprintf("%.0f", samples[i].at.Minutes()))
		}
	}
	if len(at) == 0 {
		return ""
	}
	return " (before the samples at minute " + strings.Join(at, ", ") + ")"
}
