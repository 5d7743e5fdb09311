// Package gates reads, once per plugin instance, the feature gates that change
// what our plugins must do, so that they follow the same gates as the in-tree
// plugins they replace.
package gates

import (
	v1 "k8s.io/api/core/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-helpers/resource"
	"k8s.io/kubernetes/pkg/features"
)

// Gates is a snapshot of the gates our plugins care about.
type Gates struct {
	// TaintComparisonOperators lets tolerations use Gt and Lt on taint values.
	TaintComparisonOperators bool
	// ResizePreemption lets the scheduler re-run a bound pod whose resize was
	// deferred; placement rules must then not reject the pod's own node.
	ResizePreemption bool
}

// Current returns the gates as the process is configured now.
func Current() Gates {
	return Gates{
		TaintComparisonOperators: utilfeature.DefaultFeatureGate.Enabled(features.TaintTolerationComparisonOperators),
		ResizePreemption:         utilfeature.DefaultFeatureGate.Enabled(features.InPlacePodVerticalScalingSchedulerPreemption),
	}
}

// IgnoresPlacement reports whether pod is a bound pod being re-evaluated for a
// deferred resize, for which placement constraints no longer apply.
func (g Gates) IgnoresPlacement(pod *v1.Pod) bool {
	return g.ResizePreemption && resource.IsPodResizeDeferred(pod)
}
