package evict

import (
	"context"
	"errors"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func drifted(name, controller string, pick ...string) explain.DriftedPod {
	return explain.DriftedPod{Namespace: "shop", Name: name, UID: name + "-uid", Controller: controller, Pick: pick}
}

// fakeCluster answers access reviews with allowed, refuses the eviction of
// pods named in refuse with the budget's 429, and records the evictions.
func fakeCluster(allowed bool, refuse ...string) (*fake.Clientset, *[]string) {
	cs := fake.NewClientset()
	var evicted []string
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		review := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		review.Status.Allowed = allowed
		return true, review, nil
	})
	cs.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		ev := a.(clienttesting.CreateAction).GetObject().(*policyv1.Eviction)
		for _, name := range refuse {
			if ev.Name == name {
				return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
			}
		}
		if ev.DeleteOptions == nil || ev.DeleteOptions.Preconditions == nil || string(*ev.DeleteOptions.Preconditions.UID) != ev.Name+"-uid" {
			return true, nil, apierrors.NewBadRequest("no uid precondition")
		}
		evicted = append(evicted, ev.Name)
		return true, nil, nil
	})
	return cs, &evicted
}

func TestEvict(t *testing.T) {
	pods := []explain.DriftedPod{
		drifted("web-1", "ReplicaSet/web", "n2"),
		drifted("bare", "", "n2"),
		drifted("agent", "DaemonSet/agent", "n2"),
		drifted("static", "Node/n1", "n2"),
		drifted("stuck", "ReplicaSet/stuck"),
		drifted("guarded", "ReplicaSet/guarded", "n3"),
		drifted("web-2", "ReplicaSet/web", "n4"),
	}
	tests := []struct {
		name        string
		dryRun      DryRun
		limit       int
		allowed     bool
		want        map[string]string
		wantEvicted int
		wantErr     bool
	}{
		{name: "client dry run sends nothing", dryRun: DryRunClient, allowed: false,
			want: map[string]string{"web-1": WouldEvict, "bare": Skipped, "agent": Skipped, "static": Skipped, "stuck": Skipped, "guarded": WouldEvict, "web-2": WouldEvict}},
		{name: "evicts, a budget refuses", dryRun: DryRunNone, allowed: true, wantEvicted: 2,
			want: map[string]string{"web-1": Evicted, "guarded": Refused, "web-2": Evicted, "bare": Skipped}},
		{name: "the limit", dryRun: DryRunNone, allowed: true, limit: 1, wantEvicted: 1,
			want: map[string]string{"web-1": Evicted, "guarded": OverTheLimit, "web-2": OverTheLimit}},
		{name: "no permission: no write", dryRun: DryRunNone, allowed: false, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, evicted := fakeCluster(tc.allowed, "guarded")
			got, err := Evict(context.Background(), cs, pods, tc.limit, tc.dryRun)
			if tc.wantErr {
				if !errors.As(err, new(*AccessError)) || len(*evicted) != 0 {
					t.Fatalf("err = %v, evicted %v; want an AccessError and nothing evicted", err, *evicted)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]explain.Eviction{}
			for _, e := range got {
				byName[e.Name] = e
			}
			for name, outcome := range tc.want {
				if byName[name].Outcome != outcome {
					t.Errorf("%s: %+v, want %s", name, byName[name], outcome)
				}
			}
			if len(*evicted) != tc.wantEvicted {
				t.Errorf("evicted %v, want %d", *evicted, tc.wantEvicted)
			}
			if tc.dryRun == DryRunClient && len(cs.Actions()) != 0 {
				t.Errorf("a client dry run sent %d requests", len(cs.Actions()))
			}
		})
	}
}

func TestParseDryRun(t *testing.T) {
	for _, s := range []string{"client", "server", "none"} {
		if _, err := ParseDryRun(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseDryRun("true"); err == nil {
		t.Error(`"true" was taken`)
	}
}
