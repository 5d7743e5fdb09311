package nodeaffinity_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
)

// FuzzNodeAffinity: no pod, however malformed, makes the plugin panic.
func FuzzNodeAffinity(f *testing.F) { plugintest.FuzzPlugin(f, nodeaffinity.New) }

// FuzzParseArgs: arbitrary args are accepted or refused, never a panic, and
// accepted args always build a plugin.
func FuzzParseArgs(f *testing.F) {
	f.Add([]byte(`{"addedAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]}]}}}`))
	f.Add([]byte(`{"addedAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchFields":[{"key":"metadata.name","operator":"Gt","values":["1"]}]}}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := nodeaffinity.ParseArgs(&runtime.Unknown{Raw: raw})
		if err != nil {
			return
		}
		if _, err := nodeaffinity.NewWithArgs(a); err != nil {
			t.Fatalf("ParseArgs accepted %s but NewWithArgs refused it: %v", raw, err)
		}
	})
}
