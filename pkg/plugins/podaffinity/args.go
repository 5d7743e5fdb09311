package podaffinity

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/args"
)

// DefaultHardPodAffinityWeight is the weight an existing pod's required
// affinity term adds to the score of the topology domain it is in, when the
// incoming pod matches it; the in-tree default.
const DefaultHardPodAffinityWeight int32 = 1

// Args configure PlacementPodAffinity, in the shape of the in-tree
// InterPodAffinityArgs.
type Args struct {
	// TypeMeta is accepted, and ignored, so args may carry apiVersion and kind.
	metav1.TypeMeta `json:",inline"`

	// HardPodAffinityWeight scores the symmetric side of required affinity:
	// nodes near an existing pod whose required affinity the incoming pod
	// satisfies gain this weight. 0 turns it off; at most 100. Default 1.
	HardPodAffinityWeight *int32 `json:"hardPodAffinityWeight,omitempty"`

	// IgnorePreferredTermsOfExistingPods skips scoring for a pod that has no
	// preferred terms of its own, sparing a walk over existing pods on large
	// clusters. As in-tree, a pod with preferred terms is still scored against
	// existing pods' terms too.
	IgnorePreferredTermsOfExistingPods bool `json:"ignorePreferredTermsOfExistingPods,omitempty"`
}

// ParseArgs decodes, defaults and validates raw plugin args; errors name the field.
func ParseArgs(obj runtime.Object) (Args, error) {
	a, err := decodeArgs(obj)
	if err != nil {
		return Args{}, err
	}
	return a.complete()
}

func decodeArgs(obj runtime.Object) (Args, error) {
	var a Args
	err := args.Decode(Name, obj, &a)
	return a, err
}

// complete returns the args with defaults filled in, or why they are invalid.
func (a Args) complete() (Args, error) {
	if a.HardPodAffinityWeight == nil {
		w := DefaultHardPodAffinityWeight
		a.HardPodAffinityWeight = &w
	}
	if err := a.validate(); err != nil {
		return Args{}, err
	}
	return a, nil
}

func (a Args) validate() error {
	if w := a.HardPodAffinityWeight; w != nil && (*w < 0 || *w > 100) {
		err := field.Invalid(field.NewPath("hardPodAffinityWeight"), *w, "not in valid range [0-100]")
		return fmt.Errorf("%s: invalid args: %w", Name, err)
	}
	return nil
}
