package podaffinity_test

import (
	"context"
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

// FuzzPodAffinity: no pod, however malformed, makes the plugin panic.
func FuzzPodAffinity(f *testing.F) {
	plugintest.AddFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed int64, podJSON []byte) {
		cluster, pod := plugintest.FuzzPod(t, seed, podJSON)
		pl, err := podaffinity.New(context.Background(), nil, cluster.Handle)
		if err != nil {
			t.Fatal(err)
		}
		plugintest.Exercise(t, pl, cluster, pod)
	})
}
