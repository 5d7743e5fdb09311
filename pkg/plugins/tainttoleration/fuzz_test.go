package tainttoleration_test

import (
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

// FuzzTaintToleration: no pod, however malformed, makes the plugin panic.
func FuzzTaintToleration(f *testing.F) { plugintest.FuzzPlugin(f, tainttoleration.New) }
