package nodeaffinity

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/args"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/nodematch"
)

// Args configure PlacementNodeAffinity. They have the shape of the in-tree
// NodeAffinityArgs, so a profile can move between the two by renaming.
type Args struct {
	// TypeMeta is accepted, and ignored, so args may carry apiVersion and kind.
	metav1.TypeMeta `json:",inline"`

	// AddedAffinity is applied to every pod of the profile on top of the pod's
	// own node affinity: its required part must hold, and its preferred terms add
	// to the score. Use it to keep a profile's pods on a pool of nodes.
	AddedAffinity *v1.NodeAffinity `json:"addedAffinity,omitempty"`
}

// compiled is the parsed form of Args.AddedAffinity; nil parts are absent.
type compiled struct {
	required  nodematch.Selector
	preferred nodematch.Preferred
}

// ParseArgs decodes and validates raw plugin args. Errors name the offending
// field, e.g. addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator.
func ParseArgs(obj runtime.Object) (Args, error) {
	a, err := decodeArgs(obj)
	if err != nil {
		return Args{}, err
	}
	if _, err := compile(a); err != nil {
		return Args{}, err
	}
	return a, nil
}

func decodeArgs(obj runtime.Object) (Args, error) {
	var a Args
	err := args.Decode(Name, obj, &a)
	return a, err
}

func compile(a Args) (compiled, error) {
	var c compiled
	if a.AddedAffinity == nil {
		return c, nil
	}
	path := field.NewPath("addedAffinity")
	// The library's validation names the offending field; compiling after it
	// cannot fail.
	if ns := a.AddedAffinity.RequiredDuringSchedulingIgnoredDuringExecution; ns != nil {
		if _, err := nodeaffinity.NewNodeSelector(ns, field.WithPath(path.Child("requiredDuringSchedulingIgnoredDuringExecution"))); err != nil {
			return c, fmt.Errorf("%s: invalid args: %w", Name, err)
		}
		c.required = nodematch.NewSelector(ns)
	}
	if terms := a.AddedAffinity.PreferredDuringSchedulingIgnoredDuringExecution; len(terms) > 0 {
		if _, err := nodeaffinity.NewPreferredSchedulingTerms(terms, field.WithPath(path.Child("preferredDuringSchedulingIgnoredDuringExecution"))); err != nil {
			return c, fmt.Errorf("%s: invalid args: %w", Name, err)
		}
		var err error
		if c.preferred, err = nodematch.NewPreferred(terms); err != nil {
			return c, fmt.Errorf("%s: invalid args: %w", Name, err)
		}
	}
	return c, nil
}
