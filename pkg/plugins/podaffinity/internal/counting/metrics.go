package counting

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// The index's size and how its queries were answered, on the scheduler's
// /metrics. With several profiles (plugin instances), the gauges show the
// last index that changed; docs/design.md explains the bounds.
var (
	indexViews = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem: "placement_podaffinity", Name: "index_views",
		Help:           "Views PlacementPodAffinity keeps across scheduling cycles.",
		StabilityLevel: metrics.ALPHA,
	})
	indexEntries = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem: "placement_podaffinity", Name: "index_entries",
		Help:           "Per-pod memos and per-node shares the kept views hold (about 40 bytes each).",
		StabilityLevel: metrics.ALPHA,
	})
	indexQueries = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement_podaffinity", Name: "index_queries_total",
		Help:           "Index queries by outcome: reused (a kept view, brought up to date), admitted (seen a second time: a view is made and kept), once (seen for the first time: counted afresh, not kept).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(indexViews, indexEntries, indexQueries)
	})
}

// countQuery counts one query's outcome. The child is looked up each time:
// one taken before registration would stay a no-op.
func countQuery(result string) {
	indexQueries.WithLabelValues(result).Inc()
}
