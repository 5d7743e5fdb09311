package kubectlplacement

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func TestWithRoleHint(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name string
		err  error
		hint bool
	}{
		{"forbidden request", explain.NewRequestError(apierrors.NewForbidden(pods, "p", errors.New("no")), "get", "pods", "default", "p"), true},
		{"missing access, wrapped", fmt.Errorf("opening: %w", &explain.AccessError{Missing: []string{"list nodes"}}), true},
		{"listing timed out", &explain.SyncTimeoutError{Missing: []string{"*v1.Node"}}, true},
		{"not found", explain.NewRequestError(apierrors.NewNotFound(pods, "p"), "get", "pods", "default", "p"), false},
		{"unreachable", explain.NewRequestError(errors.New("connection refused"), "get", "pods", "default", "p"), false},
		{"other", errors.New("bad flag"), false},
	}
	for _, tc := range tests {
		got := withRoleHint(tc.err)
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: %v no longer wraps %v", tc.name, got, tc.err)
		}
		if has := strings.Contains(got.Error(), roleHint); has != tc.hint {
			t.Errorf("%s: %q, want the role hint: %v", tc.name, got, tc.hint)
		}
	}
}
