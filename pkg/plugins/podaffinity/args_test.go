package podaffinity_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		wantWeight int32
		wantErr    []string
	}{
		{name: "defaults", raw: `{}`, wantWeight: 1},
		{name: "zero turns the hard weight off", raw: `{"hardPodAffinityWeight":0}`, wantWeight: 0},
		{name: "maximum", raw: `{"hardPodAffinityWeight":100}`, wantWeight: 100},
		{name: "too high", raw: `{"hardPodAffinityWeight":101}`, wantErr: []string{"PlacementPodAffinity", "hardPodAffinityWeight", "[0-100]"}},
		{name: "negative", raw: `{"hardPodAffinityWeight":-1}`, wantErr: []string{"hardPodAffinityWeight"}},
		{name: "unknown field", raw: `{"hardPodAffinityWieght":3}`, wantErr: []string{`unknown field "hardPodAffinityWieght"`}},
		{name: "wrong type", raw: `{"ignorePreferredTermsOfExistingPods":"yes"}`, wantErr: []string{"PlacementPodAffinity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := podaffinity.ParseArgs(&runtime.Unknown{Raw: []byte(tt.raw)})
			plugintest.ExpectError(t, err, tt.wantErr)
			if err == nil && *a.HardPodAffinityWeight != tt.wantWeight {
				t.Errorf("hardPodAffinityWeight = %d, want %d", *a.HardPodAffinityWeight, tt.wantWeight)
			}
		})
	}
}
