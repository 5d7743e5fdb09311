package nodeaffinity_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr []string // substrings of the error; none means success
	}{
		{name: "empty", raw: `{}`},
		{name: "typed", raw: `{"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"PlacementNodeAffinityArgs"}`},
		{name: "valid added affinity", raw: `{"addedAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"In","values":["batch"]}]}]}}}`},
		{name: "unknown field", raw: `{"addedAffinty":{}}`, wantErr: []string{"PlacementNodeAffinity", `unknown field "addedAffinty"`}},
		{name: "unknown nested field", raw: `{"addedAffinity":{"required":{}}}`, wantErr: []string{`unknown field "addedAffinity.required"`}},
		{
			name:    "invalid operator",
			raw:     `{"addedAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"Near","values":["x"]}]}]}}}`,
			wantErr: []string{"addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator", "Near"},
		},
		{
			name:    "invalid preferred key",
			raw:     `{"addedAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"a b","operator":"Exists"}]}}]}}`,
			wantErr: []string{"addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchExpressions[0].key"},
		},
		{name: "not JSON", raw: `{`, wantErr: []string{"PlacementNodeAffinity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nodeaffinity.ParseArgs(&runtime.Unknown{Raw: []byte(tt.raw), ContentType: runtime.ContentTypeJSON})
			plugintest.ExpectError(t, err, tt.wantErr)
		})
	}
}
