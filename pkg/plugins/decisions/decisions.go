// Package decisions is the PlacementDecisions plugin: in a profile, it turns
// on the recording of every placement decision (pkg/decision), configured by
// its args, and finishes a bound pod's record from PostBind.
package decisions

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/args"
)

// Name is the plugin's name in a profile.
const Name = "PlacementDecisions"

// Plugin finishes the records of bound pods. It filters and scores nothing.
type Plugin struct{}

var _ fwk.PostBindPlugin = Plugin{}

// New checks the args, so that a mistake stops the scheduler at start-up.
func New(_ context.Context, obj runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	if _, err := ParseArgs(obj); err != nil {
		return nil, err
	}
	return Plugin{}, nil
}

// Name returns the plugin's name.
func (Plugin) Name() string { return Name }

// PostBind finishes the record of the cycle that bound pod.
func (Plugin) PostBind(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) {
	decision.PodBound(state, pod, nodeName)
}

// Args are the plugin's args as the configuration spells them.
type Args struct {
	// TypeMeta is accepted, and ignored, so args may carry apiVersion and kind.
	metav1.TypeMeta `json:",inline"`
	TopNodes        *int `json:"topNodes,omitempty"`
	// Retention is a Go duration ("24h", "90m").
	Retention  *string `json:"retention,omitempty"`
	MaxRecords *int    `json:"maxRecords,omitempty"`
	QueueSize  *int    `json:"queueSize,omitempty"`
}

// ParseArgs decodes, defaults and validates the plugin's raw args. Unknown
// fields and invalid values are errors naming the field. A field given as 0
// is invalid rather than defaulted: an explicit 0 never means "off" (take the
// plugin out of the profile for that).
func ParseArgs(obj runtime.Object) (decision.Config, error) {
	var a Args
	if err := args.Decode(Name, obj, &a); err != nil {
		return decision.Config{}, err
	}
	c := decision.Config{
		TopNodes:   value(a.TopNodes, decision.DefaultTopNodes),
		Retention:  decision.DefaultRetention,
		MaxRecords: value(a.MaxRecords, decision.DefaultMaxRecords),
		QueueSize:  value(a.QueueSize, decision.DefaultQueueSize),
	}
	if a.Retention != nil {
		d, err := time.ParseDuration(*a.Retention)
		if err != nil {
			return decision.Config{}, fmt.Errorf("%s: invalid args: %w", Name, field.Invalid(field.NewPath("retention"), *a.Retention, "not a duration such as 24h or 90m"))
		}
		c.Retention = d
	}
	if err := c.Validate(); err != nil {
		return decision.Config{}, fmt.Errorf("%s: invalid args: %w", Name, err)
	}
	return c, nil
}

func value(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
