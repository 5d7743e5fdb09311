package podaffinity_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

func TestFilter(t *testing.T) {
	existing := []*v1.Pod{
		pod("db", "db").Node("n1").Obj(),
		st.MakePod().Namespace("other").Name("cache").UID("cache").Label("app", "cache").Node("n3").Obj(),
		// guard keeps app=web pods out of its zone (z1).
		withTerm(pod("guard", "guard").Node("n2").Obj(), true, "web", zone, nil, nil),
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		// skip: PreFilter returns Skip (nothing to check).
		skip bool
		want map[string]verdict
	}{
		{name: "no terms, no existing anti-affinity against it", pod: pod("p", "x").Obj(), skip: true},
		{
			name: "affinity: nodes in the zone of a matching pod; a node without the key never",
			pod:  withTerm(pod("p", "x").Obj(), false, "db", zone, nil, nil),
			want: map[string]verdict{"n1": pass, "n2": pass, "n3": noAffinity, "n4": noAffinity},
		},
		{
			name: "affinity: nil namespaces mean the pod's own namespace",
			pod:  withTerm(pod("p", "x").Obj(), false, "cache", zone, nil, nil),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": noAffinity, "n4": noAffinity},
		},
		{
			name: "affinity: listed namespaces",
			pod:  withTerm(pod("p", "x").Obj(), false, "cache", zone, []string{"other"}, nil),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": pass, "n4": noAffinity},
		},
		{
			name: "affinity: namespaceSelector on namespace labels",
			pod:  withTerm(pod("p", "x").Obj(), false, "cache", zone, nil, &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": pass, "n4": noAffinity},
		},
		{
			name: "affinity: empty namespaceSelector selects every namespace",
			pod:  withTerm(pod("p", "x").Obj(), false, "cache", zone, nil, &metav1.LabelSelector{}),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": pass, "n4": noAffinity},
		},
		{
			name: "affinity: the first pod of a self-affine group goes to any node with the key",
			pod:  withTerm(pod("p", "new").Obj(), false, "new", zone, nil, nil),
			want: map[string]verdict{"n1": pass, "n2": pass, "n3": pass, "n4": noAffinity},
		},
		{
			name: "affinity: no first-pod exception when the pod does not match its own term",
			pod:  withTerm(pod("p", "x").Obj(), false, "new", zone, nil, nil),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": noAffinity, "n4": noAffinity},
		},
		{
			name: "anti-affinity on hostname: only the matching pod's node",
			pod:  withTerm(pod("p", "x").Obj(), true, "db", v1.LabelHostname, nil, nil),
			want: map[string]verdict{"n1": antiAffinity, "n2": pass, "n3": pass, "n4": pass},
		},
		{
			name: "anti-affinity on zone: the whole zone; a node without the key is fine",
			pod:  withTerm(pod("p", "x").Obj(), true, "db", zone, nil, nil),
			want: map[string]verdict{"n1": antiAffinity, "n2": antiAffinity, "n3": pass, "n4": pass},
		},
		{
			name: "existing pods' anti-affinity: the incoming pod is kept out of their zone",
			pod:  pod("p", "web").Obj(),
			want: map[string]verdict{"n1": existingAnti, "n2": existingAnti, "n3": pass, "n4": pass},
		},
		{
			name: "affinity is checked before anti-affinity",
			pod:  withTerm(withTerm(pod("p", "x").Obj(), false, "cache", zone, []string{"other"}, nil), true, "cache", zone, []string{"other"}, nil),
			want: map[string]verdict{"n1": noAffinity, "n2": noAffinity, "n3": antiAffinity, "n4": noAffinity},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster := plugintest.NewCluster(t, existing, testNodes(), testNamespaces())
			pl, err := podaffinity.NewWithArgs(cluster.Handle, podaffinity.Args{})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := plugintest.Filter(context.Background(), pl, tc.pod, cluster.Nodes)
			if tc.skip {
				if !got.PreFilter.IsSkip() {
					t.Fatalf("PreFilter = %s, want Skip", plugintest.Describe(got.PreFilter))
				}
				return
			}
			if !got.PreFilter.IsSuccess() {
				t.Fatalf("PreFilter = %s", plugintest.Describe(got.PreFilter))
			}
			for i, ni := range cluster.Nodes {
				s, want := got.Nodes[i], tc.want[ni.Node().Name]
				if s.Code() != want.code || (want.reason != "" && (len(s.Reasons()) != 1 || s.Reasons()[0] != want.reason)) {
					t.Errorf("node %s: %s, want %v %q", ni.Node().Name, plugintest.Describe(s), want.code, want.reason)
				}
			}
		})
	}
}
