package decision

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Defaults of Config.
const (
	DefaultTopNodes   = 5
	DefaultRetention  = 24 * time.Hour
	DefaultMaxRecords = 20_000
	DefaultQueueSize  = 5_000
)

// Config is how a profile records: the PlacementDecisions plugin's args.
type Config struct {
	// TopNodes is how many feasible nodes' scores a record keeps, the chosen
	// one included. 1 to 100; default 5.
	TopNodes int
	// Retention is how long a record is kept after its decision. At least
	// one minute; default 24h.
	Retention time.Duration
	// MaxRecords bounds the records of this profile in the cluster; the
	// oldest go first. At least 1; default 20,000.
	MaxRecords int
	// QueueSize bounds the records waiting to be written; when the API
	// server is slow or down and the queue is full, new records are dropped
	// and counted (placement_decision_records_dropped_total). At least 1;
	// default 5,000.
	QueueSize int
}

// Validate says which fields are out of range, naming them.
func (c Config) Validate() error {
	var errs field.ErrorList
	if c.TopNodes < 1 || c.TopNodes > 100 {
		errs = append(errs, field.Invalid(field.NewPath("topNodes"), c.TopNodes, "not in valid range [1-100]"))
	}
	if c.Retention < time.Minute {
		errs = append(errs, field.Invalid(field.NewPath("retention"), c.Retention.String(), "must be at least 1m"))
	}
	if c.MaxRecords < 1 {
		errs = append(errs, field.Invalid(field.NewPath("maxRecords"), c.MaxRecords, "must be at least 1"))
	}
	if c.QueueSize < 1 {
		errs = append(errs, field.Invalid(field.NewPath("queueSize"), c.QueueSize, "must be at least 1"))
	}
	return errs.ToAggregate()
}
