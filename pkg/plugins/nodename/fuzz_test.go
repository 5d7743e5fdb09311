package nodename_test

import (
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
)

// FuzzNodeName: no pod, however malformed, makes the plugin panic.
func FuzzNodeName(f *testing.F) { plugintest.FuzzPlugin(f, nodename.New) }
