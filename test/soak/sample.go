package main

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/internal/schedulerprocess"
)

// sample is one minute's look at the scheduler process and the cluster. A
// figure that could not be read is -1.
type sample struct {
	at                        time.Duration
	rss, heapInuse, heapAlloc int64
	goroutines                int64
	indexViews, indexEntries  int64
	pods                      podCounts
	// fault names the fault injected since the previous sample, if any.
	fault string
	// restarts counts the scheduler's restarts so far: the memory series
	// start again after one.
	restarts int
}

// The scheduler's own gauges behind each column (Go's runtime collector and
// PlacementPodAffinity's index).
const (
	metricHeapInuse    = "go_memstats_heap_inuse_bytes"
	metricHeapAlloc    = "go_memstats_heap_alloc_bytes"
	metricGoroutines   = "go_goroutines"
	metricIndexViews   = "placement_podaffinity_index_views"
	metricIndexEntries = "placement_podaffinity_index_entries"
)

func (s *soaker) sample(ctx context.Context, fault string) sample {
	logger := klog.FromContext(ctx)
	x := sample{at: time.Since(s.began), rss: -1, heapInuse: -1, heapAlloc: -1, goroutines: -1, indexViews: -1, indexEntries: -1, fault: fault}
	x.restarts = s.proc.Restarts()
	if rss, err := s.proc.RSS(); err == nil {
		x.rss = rss
	}
	text, err := s.proc.Metrics(ctx)
	if err == nil {
		var g map[string]int64
		g, err = schedulerprocess.Gauges(text, metricHeapInuse, metricHeapAlloc, metricGoroutines, metricIndexViews, metricIndexEntries)
		if err == nil {
			x.heapInuse, x.heapAlloc, x.goroutines = g[metricHeapInuse], g[metricHeapAlloc], g[metricGoroutines]
			x.indexViews, x.indexEntries = g[metricIndexViews], g[metricIndexEntries]
		}
	}
	if err != nil {
		logger.Info("Could not scrape the scheduler", "err", err)
	}
	if pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{}); err == nil {
		x.pods = countPods(pods.Items)
	}
	logger.Info("Sample", "at", x.at.Round(time.Second), "rss", x.rss, "heapInuse", x.heapInuse, "goroutines", x.goroutines,
		"indexViews", x.indexViews, "indexEntries", x.indexEntries, "pods", x.pods.total, "bound", x.pods.bound, "fault", fault)
	return x
}
