package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
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
	x.restarts = s.proc.restarts()
	if rss, err := s.proc.rss(); err == nil {
		x.rss = rss
	}
	text, err := s.proc.metrics(ctx)
	if err == nil {
		var g map[string]int64
		g, err = gauges(text, metricHeapInuse, metricHeapAlloc, metricGoroutines, metricIndexViews, metricIndexEntries)
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

// gauges reads the named unlabelled gauges from a Prometheus text exposition;
// a name that is absent is -1.
func gauges(text string, names ...string) (map[string]int64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	out := map[string]int64{}
	for _, name := range names {
		out[name] = -1
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			continue
		}
		out[name] = int64(value(f.GetType(), f.GetMetric()[0]))
	}
	return out, nil
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}
