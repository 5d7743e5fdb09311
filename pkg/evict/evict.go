// Package evict moves drifted pods through the Eviction API, so that
// PodDisruptionBudgets hold: the one write kubectl placement makes. It
// decides which drifted pods may go (a controller re-creates them somewhere
// else and a node fits them), checks the caller may evict before the first
// write, and reports each pod's outcome as data.
package evict

import (
	"context"
	"fmt"
	"sort"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// DryRun says how far an eviction goes, as kubectl's --dry-run does.
type DryRun string

const (
	// DryRunClient sends nothing: the default.
	DryRunClient DryRun = "client"
	// DryRunServer asks the API server to check the eviction (budgets,
	// permissions) without acting.
	DryRunServer DryRun = "server"
	// DryRunNone evicts.
	DryRunNone DryRun = "none"
)

// ParseDryRun reads a --dry-run value.
func ParseDryRun(s string) (DryRun, error) {
	switch d := DryRun(s); d {
	case DryRunClient, DryRunServer, DryRunNone:
		return d, nil
	}
	return "", fmt.Errorf("want one of client, server, none")
}

// The outcomes of Evict, one per drifted pod.
const (
	Evicted      = "Evicted"
	WouldEvict   = "WouldEvict"
	Skipped      = "Skipped"
	Refused      = "Refused"
	Failed       = "Failed"
	OverTheLimit = "OverTheLimit"
)

// Why a drifted pod is not evicted even when asked.
func skipReason(p explain.DriftedPod) string {
	kind, _, _ := strings.Cut(p.Controller, "/")
	switch {
	case p.Controller == "":
		return "no controller re-creates it"
	case kind == "DaemonSet":
		return "its DaemonSet re-creates it on the same node"
	case kind == "Node":
		return "a mirror pod: its kubelet runs it"
	case len(p.Pick) == 0:
		return "it fits on no other node now"
	}
	return ""
}

// AccessError names the namespaces where the caller may not evict pods.
type AccessError struct{ Namespaces []string }

func (e *AccessError) Error() string {
	return fmt.Sprintf("missing permission: create pods/eviction in namespace(s) %s", strings.Join(e.Namespaces, ", "))
}

// Evict evicts the drifted pods that may go, in the drift's order, at most
// limit of them (0: no limit), as dryRun says. Before the first eviction
// it checks that the caller may evict in every namespace concerned; a
// refusal (a budget, HTTP 429) is reported and the rest go on.
func Evict(ctx context.Context, cs kubernetes.Interface, pods []explain.DriftedPod, limit int, dryRun DryRun) ([]explain.Eviction, error) {
	var eligible []explain.DriftedPod
	results := make([]explain.Eviction, 0, len(pods))
	for _, p := range pods {
		if why := skipReason(p); why != "" {
			results = append(results, explain.Eviction{Namespace: p.Namespace, Name: p.Name, Outcome: Skipped, Message: why})
			continue
		}
		eligible = append(eligible, p)
	}
	if dryRun != DryRunClient {
		if err := checkAccess(ctx, cs, eligible); err != nil {
			return nil, err
		}
	}
	for i, p := range eligible {
		r := explain.Eviction{Namespace: p.Namespace, Name: p.Name}
		switch {
		case limit > 0 && i >= limit:
			r.Outcome, r.Message = OverTheLimit, fmt.Sprintf("--max-evictions %d reached", limit)
		case dryRun == DryRunClient:
			r.Outcome = WouldEvict
		default:
			r.Outcome, r.Message = evictOne(ctx, cs, p, dryRun)
		}
		results = append(results, r)
	}
	return results, nil
}

func evictOne(ctx context.Context, cs kubernetes.Interface, p explain.DriftedPod, dryRun DryRun) (string, string) {
	opts := &metav1.DeleteOptions{}
	if p.UID != "" {
		// This very pod: not one re-created under its name since drift looked.
		opts.Preconditions = metav1.NewUIDPreconditions(p.UID)
	}
	if dryRun == DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	err := cs.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name},
		DeleteOptions: opts,
	})
	switch {
	case err == nil && dryRun == DryRunServer:
		return WouldEvict, ""
	case err == nil:
		return Evicted, ""
	case apierrors.IsTooManyRequests(err):
		// A budget allows no disruption now (or its status is not ready).
		return Refused, err.Error()
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return Skipped, "gone or re-created since drift looked"
	}
	return Failed, err.Error()
}

// checkAccess asks whether the caller may create pods/eviction in each
// namespace of the pods, before any write.
func checkAccess(ctx context.Context, cs kubernetes.Interface, pods []explain.DriftedPod) error {
	seen := map[string]bool{}
	var missing []string
	for _, p := range pods {
		if seen[p.Namespace] {
			continue
		}
		seen[p.Namespace] = true
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "eviction", Namespace: p.Namespace},
		}}
		got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return explain.NewRequestError(err, "create", "selfsubjectaccessreviews.authorization.k8s.io", "", "")
		}
		if !got.Status.Allowed {
			missing = append(missing, p.Namespace)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return &AccessError{Namespaces: missing}
	}
	return nil
}
