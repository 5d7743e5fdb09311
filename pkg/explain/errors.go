package explain

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrUnreachable marks errors where no API server answered.
var ErrUnreachable = errors.New("cannot reach the cluster")

// Describe turns an API error into one an operator can act on: which object
// is missing, or which verb on which resource the credentials lack.
func Describe(err error, verb, resource, namespace, name string) error {
	where := "cluster-wide"
	if namespace != "" {
		where = "in namespace " + namespace
	}
	switch {
	case apierrors.IsNotFound(err):
		if namespace != "" {
			name = namespace + "/" + name
		}
		return fmt.Errorf("%s %s not found", resource, name)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("missing permission: %s %s %s (see manifests/explain-rbac.yaml): %w", verb, resource, where, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the cluster rejected the credentials: %w", err)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return fmt.Errorf("%s %s %s: %w", verb, resource, where, err)
}
