package explain_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestSyncProgress: a listing that takes longer than ProgressEvery is
// reported while it runs, naming what is still being listed, and once more
// when done; a quick one is not reported at all.
func TestSyncProgress(t *testing.T) {
	tests := []struct {
		name     string
		slowList time.Duration
		want     bool
	}{
		{"quick", 0, false},
		{"slow pods", explain.ProgressEvery + 700*time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
				time.Sleep(tc.slowList)
				return false, nil, nil
			})
			var mu sync.Mutex
			var got []explain.SyncProgress
			o := testOptions(t, cs)
			o.Progress = func(p explain.SyncProgress) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, p)
			}
			s, err := explain.Open(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			mu.Lock()
			defer mu.Unlock()
			if !tc.want {
				if len(got) != 0 {
					t.Errorf("reports %+v, want none", got)
				}
				return
			}
			// The fake clientset answers one request at a time, so others
			// wait behind the pods too.
			if len(got) != 2 || !slices.Contains(got[0].Waiting, "*v1.Pod") || got[0].Done || !got[1].Done || got[1].Elapsed < tc.slowList {
				t.Errorf("reports %+v; want one naming *v1.Pod, then done after %v", got, tc.slowList)
			}
		})
	}
}
