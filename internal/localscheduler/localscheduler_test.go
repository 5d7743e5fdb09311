package localscheduler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/manifests"
)

// TestBadConfigurationFailsAtStartup: configuration mistakes stop the
// scheduler before it schedules anything, with the offending field named.
// No apiserver is needed: plugins are built before any connection is made.
func TestBadConfigurationFailsAtStartup(t *testing.T) {
	base := string(manifests.SchedulerConfig)
	argsAnchor := "      - name: PlacementPodAffinity\n        args:\n"
	tests := []struct {
		name    string
		config  string
		wantErr []string
	}{
		{
			name:    "unknown plugin",
			config:  strings.Replace(base, "- name: PlacementNodeName", "- name: PlacementNodeNme", 1),
			wantErr: []string{"PlacementNodeNme"},
		},
		{
			name:    "unknown args field",
			config:  strings.Replace(base, argsAnchor, argsAnchor+"          hardPodAfinityWeight: 3\n", 1),
			wantErr: []string{"PlacementPodAffinity", `unknown field "hardPodAfinityWeight"`},
		},
		{
			name:    "out-of-range args",
			config:  strings.Replace(base, "hardPodAffinityWeight: 1", "hardPodAffinityWeight: 101", 1),
			wantErr: []string{"PlacementPodAffinity", "hardPodAffinityWeight"},
		},
		{
			name: "invalid addedAffinity selector",
			config: base + `      - name: PlacementNodeAffinity
        args:
          addedAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions:
                    - {key: pool, operator: Near, values: [a]}
`,
			wantErr: []string{"addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator"},
		},
		{
			name:    "negative topNodes of PlacementDecisions",
			config:  strings.Replace(base, "topNodes: 5", "topNodes: -5", 1),
			wantErr: []string{"PlacementDecisions", "topNodes"},
		},
		{
			name:    "retention of 0",
			config:  strings.Replace(base, "retention: 24h", "retention: 0s", 1),
			wantErr: []string{"PlacementDecisions", "retention", "at least 1m"},
		},
		{
			name:    "unknown field of PlacementDecisions",
			config:  strings.Replace(base, "maxRecords: 20000", "maxRecord: 20000", 1),
			wantErr: []string{"PlacementDecisions", `unknown field "maxRecord"`},
		},
		{
			name:    "negative weight",
			config:  strings.Replace(base, "weight: 3", "weight: -3", 1),
			wantErr: []string{"profiles[0].plugins.multiPoint.enabled[4].weight", "must not be negative"},
		},
	}
	kubeconfig := writeUnreachableKubeconfig(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := localscheduler.Start(context.Background(), localscheduler.Options{
				Kubeconfig: kubeconfig, Config: []byte(tt.config), Flags: []string{"--secure-port=0"},
			})
			if err == nil {
				s.Stop()
				t.Fatalf("scheduler started; want an error naming %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

func writeUnreachableKubeconfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	const kc = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
