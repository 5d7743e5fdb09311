package explain

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Resource is an API resource explain lists and watches cluster-wide: the
// ones the scheduler's plugins keep informers on. The explainers' role
// (kustomize base and chart) grants exactly these; a test keeps them in step.
type Resource struct {
	Group    string
	Resource string
}

func (r Resource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// Watched lists what the default plugins watch, as the scheduler does.
var Watched = []Resource{
	{"", "pods"}, {"", "nodes"}, {"", "namespaces"},
	{"", "persistentvolumes"}, {"", "persistentvolumeclaims"},
	{"", "services"}, {"", "replicationcontrollers"},
	{"apps", "replicasets"}, {"apps", "statefulsets"},
	{"storage.k8s.io", "storageclasses"}, {"storage.k8s.io", "csinodes"},
	{"storage.k8s.io", "csidrivers"}, {"storage.k8s.io", "csistoragecapacities"},
	{"storage.k8s.io", "volumeattachments"},
	{"resource.k8s.io", "resourceclaims"}, {"resource.k8s.io", "resourceslices"},
	{"resource.k8s.io", "deviceclasses"}, {"resource.k8s.io", "devicetaintrules"},
	{"policy", "poddisruptionbudgets"},
}

// Listed are resources simulate and capacity list once, outside the
// scheduler's informers: PriorityClasses, to give new pods their priority.
var Listed = []Resource{{"scheduling.k8s.io", "priorityclasses"}}

// CheckAccess asks the API server whether the caller may list and watch
// everything explain reads (Watched) and list what simulate reads (Listed);
// an *AccessError names each missing verb and resource. It fails fast where
// informers would otherwise retry until the sync timeout.
func CheckAccess(ctx context.Context, cs kubernetes.Interface) error {
	var missing []string
	type check struct {
		verb string
		r    Resource
	}
	var checks []check
	for _, r := range Watched {
		checks = append(checks, check{"list", r}, check{"watch", r})
	}
	for _, r := range Listed {
		checks = append(checks, check{"list", r})
	}
	for _, c := range checks {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: c.verb, Group: c.r.Group, Resource: c.r.Resource},
		}}
		got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return NewRequestError(err, "create", "selfsubjectaccessreviews.authorization.k8s.io", "", "")
		}
		if !got.Status.Allowed {
			missing = append(missing, c.verb+" "+c.r.String())
		}
	}
	if len(missing) > 0 {
		return &AccessError{Missing: missing}
	}
	return nil
}
