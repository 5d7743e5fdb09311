package nodeselector_test

import (
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
)

// FuzzNodeSelector: no pod, however malformed, makes the plugin panic.
func FuzzNodeSelector(f *testing.F) { plugintest.FuzzPlugin(f, nodeselector.New) }
