package decision

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// The writers' work, on the scheduler's /metrics, by profile. Drops are the
// records lost: queue full (the API server slow or down) or still queued when
// the scheduler stopped.
var (
	recordsWritten = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement", Name: "decision_records_written_total",
		Help:           "Placement decision records written to the API server.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})
	recordsDropped = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement", Name: "decision_records_dropped_total",
		Help:           "Placement decision records dropped unwritten: the queue was full, or the scheduler stopped before writing them.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})
	recordWrites = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement", Name: "decision_record_writes_total",
		Help:           "Successful API requests that wrote placement decision records: one per pod's own record, one per batch.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})
	writeErrors = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement", Name: "decision_record_write_errors_total",
		Help:           "Failed writes of placement decision records (their records are retried while the queue has room).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})
	recordsDeleted = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem: "placement", Name: "decision_records_deleted_total",
		Help:           "Placement decision records deleted for their age or beyond the maximum count.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})
	queueLength = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem: "placement", Name: "decision_records_queued",
		Help:           "Placement decision records waiting to be written.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"profile"})

	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(recordsWritten, recordWrites, recordsDropped, writeErrors, recordsDeleted, queueLength)
	})
}
