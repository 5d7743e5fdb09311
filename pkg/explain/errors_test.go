package explain_test

import (
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func TestRequestError(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name        string
		err         error
		namespace   string
		want        string
		unreachable bool
	}{
		{"not found", apierrors.NewNotFound(pods, "p"), "default", "pods default/p not found", false},
		{"forbidden", apierrors.NewForbidden(pods, "p", errors.New("no")), "default", `missing permission: get pods in namespace default: pods "p" is forbidden: no`, false},
		{"forbidden cluster-wide", apierrors.NewForbidden(pods, "", errors.New("no")), "", `missing permission: get pods cluster-wide: pods is forbidden: no`, false},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), "default", "the cluster rejected the credentials: bad token", false},
		{"no server", errors.New("dial tcp: connection refused"), "default", "cannot reach the cluster: dial tcp: connection refused", true},
		{"other status", apierrors.NewInternalError(errors.New("boom")), "default", "get pods in namespace default: Internal error occurred: boom", false},
	}
	for _, tc := range tests {
		err := explain.NewRequestError(tc.err, "get", "pods", tc.namespace, "p")
		if err.Error() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, err.Error(), tc.want)
		}
		if errors.Is(err, explain.ErrUnreachable) != tc.unreachable {
			t.Errorf("%s: errors.Is(ErrUnreachable) = %v, want %v", tc.name, !tc.unreachable, tc.unreachable)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: does not wrap the API error", tc.name)
		}
	}
}
