package podaffinity_test

import (
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// FuzzPodAffinity: no pod, however malformed, makes the plugin panic.
func FuzzPodAffinity(f *testing.F) { plugintest.FuzzPlugin(f, podaffinity.New) }
