package explain

import (
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrUnreachable marks errors where no API server answered.
var ErrUnreachable = errors.New("cannot reach the cluster")

// RequestError is a failed API request and what it asked: verb on resource
// (name, in namespace; cluster-wide when namespace is empty).
type RequestError struct {
	Verb, Resource, Namespace, Name string
	Err                             error
}

// NewRequestError wraps err, the error of a request of verb on resource.
func NewRequestError(err error, verb, resource, namespace, name string) *RequestError {
	return &RequestError{Verb: verb, Resource: resource, Namespace: namespace, Name: name, Err: err}
}

func (e *RequestError) Error() string {
	where := "cluster-wide"
	if e.Namespace != "" {
		where = "in namespace " + e.Namespace
	}
	switch {
	case apierrors.IsNotFound(e.Err):
		name := e.Name
		if e.Namespace != "" {
			name = e.Namespace + "/" + name
		}
		return fmt.Sprintf("%s %s not found", e.Resource, name)
	case apierrors.IsForbidden(e.Err):
		return fmt.Sprintf("missing permission: %s %s %s: %v", e.Verb, e.Resource, where, e.Err)
	case apierrors.IsUnauthorized(e.Err):
		return fmt.Sprintf("the cluster rejected the credentials: %v", e.Err)
	case !e.answered():
		return fmt.Sprintf("%v: %v", ErrUnreachable, e.Err)
	}
	return fmt.Sprintf("%s %s %s: %v", e.Verb, e.Resource, where, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true when no server answered.
func (e *RequestError) Is(target error) bool { return target == ErrUnreachable && !e.answered() }

// Forbidden reports whether the server refused the caller the request.
func (e *RequestError) Forbidden() bool { return apierrors.IsForbidden(e.Err) }

// answered reports whether an API server gave the error.
func (e *RequestError) answered() bool {
	var status apierrors.APIStatus
	return errors.As(e.Err, &status)
}

// AccessError lists the verbs on resources the caller lacks (cluster-wide),
// each as "list nodes".
type AccessError struct{ Missing []string }

func (e *AccessError) Error() string {
	return "missing permissions (cluster-wide): " + strings.Join(e.Missing, ", ")
}

// SyncTimeoutError says listing the cluster did not finish in Timeout; Missing
// are the resources still unlisted, sorted. Missing list or watch permission
// is the usual cause: informers retry a refused list until the timeout.
type SyncTimeoutError struct {
	Timeout time.Duration
	Missing []string
}

func (e *SyncTimeoutError) Error() string {
	return fmt.Sprintf("listing the cluster took longer than %v; still missing %s", e.Timeout, strings.Join(e.Missing, ", "))
}
