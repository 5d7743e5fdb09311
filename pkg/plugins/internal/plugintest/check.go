package plugintest

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
)

// InTreeFeatures are the feature flags the in-tree plugins get in this
// process, for building them as oracles.
func InTreeFeatures() plfeature.Features {
	return plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
}

// ExpectError fails t unless err is nil when want is empty, or err's text
// contains every string of want.
func ExpectError(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// ExpectVerdict fails t unless s passes when wantPass, or otherwise rejects
// with UnschedulableAndUnresolvable and exactly reason.
func ExpectVerdict(t *testing.T, s *fwk.Status, wantPass bool, reason string) {
	t.Helper()
	if s.IsSuccess() != wantPass {
		t.Fatalf("Filter = %s, want pass=%v", Describe(s), wantPass)
	}
	if !wantPass && (s.Code() != fwk.UnschedulableAndUnresolvable || len(s.Reasons()) != 1 || s.Reasons()[0] != reason) {
		t.Errorf("Filter = %s, want UnschedulableAndUnresolvable %q", Describe(s), reason)
	}
}

// ExpectHint calls a node event's queueing hint for pod; a nil old node
// stands for an added node.
func ExpectHint(t *testing.T, hint fwk.QueueingHintFn, pod *v1.Pod, oldNode, newNode *v1.Node, want fwk.QueueingHint) {
	t.Helper()
	var old any
	if oldNode != nil {
		old = oldNode
	}
	got, err := hint(klog.Background(), pod, old, newNode)
	if err != nil || got != want {
		t.Errorf("hint = %v, %v; want %v", got, err, want)
	}
}
