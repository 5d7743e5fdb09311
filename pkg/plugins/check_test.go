package plugins_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
)

func TestCheckConfig(t *testing.T) {
	profile := func(ps ...config.Plugin) config.KubeSchedulerProfile {
		return config.KubeSchedulerProfile{SchedulerName: "s", Plugins: &config.Plugins{MultiPoint: config.PluginSet{Enabled: ps}}}
	}
	tests := []struct {
		name         string
		profile      config.KubeSchedulerProfile
		wantWarnings []string
		wantErr      string
	}{
		{name: "ours alone", profile: profile(config.Plugin{Name: "PlacementNodeAffinity", Weight: 2}, config.Plugin{Name: "TaintToleration", Weight: 3})},
		{name: "ours beside the in-tree twin", profile: profile(config.Plugin{Name: "PlacementPodAffinity", Weight: 2}, config.Plugin{Name: "InterPodAffinity", Weight: 2}),
			wantWarnings: []string{"PlacementPodAffinity", "InterPodAffinity"}},
		{name: "negative weight", profile: profile(config.Plugin{Name: "A"}, config.Plugin{Name: "PlacementTaintToleration", Weight: -1}),
			wantErr: "profiles[0].plugins.multiPoint.enabled[1].weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := plugins.CheckConfig(&config.KubeSchedulerConfiguration{Profiles: []config.KubeSchedulerProfile{tt.profile}})
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if len(tt.wantWarnings) == 0 && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			for _, w := range tt.wantWarnings {
				if len(warnings) != 1 || !strings.Contains(warnings[0], w) {
					t.Errorf("warnings %q, want one naming %q", warnings, w)
				}
			}
		})
	}
}

// TestCheckConfigFileWarns: the warning reaches the start-up log, naming both plugins.
func TestCheckConfigFileWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const cfg = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: both
    plugins:
      multiPoint:
        enabled:
          - name: PlacementTaintToleration
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	if err := plugins.CheckConfigFile(logger, path); err != nil {
		t.Fatal(err)
	}
	logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
	for _, want := range []string{"Warning:", "PlacementTaintToleration", "the in-tree TaintToleration"} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs)
		}
	}
}
