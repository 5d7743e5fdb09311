package plugintest

import (
	"strings"
	"testing"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
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
