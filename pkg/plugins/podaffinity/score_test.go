package podaffinity_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

func preferred(p *v1.Pod, anti bool, app string, weight int32) *v1.Pod {
	term := v1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: sel(app), TopologyKey: zone}}
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if anti {
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{term}}
	} else {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{term}}
	}
	return p
}

func TestScore(t *testing.T) {
	tests := []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		args     podaffinity.Args
		// want holds normalized scores by node; nil means PreScore skips.
		want map[string]int64
	}{
		{
			name:     "preferred affinity: the zone of a matching pod scores highest",
			existing: []*v1.Pod{pod("db", "db").Node("n1").Obj()},
			pod:      preferred(pod("p", "x").Obj(), false, "db", 10),
			want:     map[string]int64{"n1": 100, "n2": 100, "n3": 0, "n4": 0},
		},
		{
			name:     "preferred anti-affinity: the zone of a matching pod scores lowest",
			existing: []*v1.Pod{pod("db", "db").Node("n1").Obj()},
			pod:      preferred(pod("p", "x").Obj(), true, "db", 10),
			want:     map[string]int64{"n1": 0, "n2": 0, "n3": 100, "n4": 100},
		},
		{
			name:     "weights add up per zone and are scaled between the lowest and the highest",
			existing: []*v1.Pod{pod("db1", "db").Node("n1").Obj(), pod("db2", "db").Node("n3").Obj(), pod("db3", "db").Node("n3").Obj()},
			pod:      preferred(pod("p", "x").Obj(), false, "db", 10),
			want:     map[string]int64{"n1": 50, "n2": 50, "n3": 100, "n4": 0},
		},
		{
			name:     "an existing pod's required affinity counts at hardPodAffinityWeight",
			existing: []*v1.Pod{withTerm(pod("follower", "f").Node("n3").Obj(), false, "leader", zone, nil, nil)},
			pod:      pod("p", "leader").Obj(),
			args:     podaffinity.Args{HardPodAffinityWeight: ptr.To[int32](5)},
			want:     map[string]int64{"n1": 0, "n2": 0, "n3": 100, "n4": 0},
		},
		{
			name:     "hardPodAffinityWeight 0 ignores existing pods' required affinity",
			existing: []*v1.Pod{withTerm(pod("follower", "f").Node("n3").Obj(), false, "leader", zone, nil, nil)},
			pod:      pod("p", "leader").Obj(),
			args:     podaffinity.Args{HardPodAffinityWeight: ptr.To[int32](0)},
		},
		{
			name:     "an existing pod's preferred anti-affinity pushes the pod away",
			existing: []*v1.Pod{preferred(pod("quiet", "q").Node("n1").Obj(), true, "web", 5)},
			pod:      pod("p", "web").Obj(),
			want:     map[string]int64{"n1": 0, "n2": 0, "n3": 100, "n4": 100},
		},
		{
			name:     "ignorePreferredTermsOfExistingPods: a pod without preferred terms is not scored",
			existing: []*v1.Pod{preferred(pod("quiet", "q").Node("n1").Obj(), true, "web", 5)},
			pod:      pod("p", "web").Obj(),
			args:     podaffinity.Args{IgnorePreferredTermsOfExistingPods: true},
		},
		{
			name:     "no terms anywhere: PreScore skips",
			existing: []*v1.Pod{pod("db", "db").Node("n1").Obj()},
			pod:      pod("p", "x").Obj(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster := plugintest.NewCluster(t, tc.existing, testNodes(), testNamespaces())
			pl, err := podaffinity.NewWithArgs(cluster.Handle, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			state := plugintest.NewCycleState()
			s := pl.PreScore(context.Background(), state, tc.pod, cluster.Nodes)
			if tc.want == nil {
				if !s.IsSkip() {
					t.Fatalf("PreScore = %s, want Skip", plugintest.Describe(s))
				}
				return
			}
			scores, st := plugintest.Score(context.Background(), pl, tc.pod, cluster.Nodes)
			if !st.IsSuccess() {
				t.Fatal(plugintest.Describe(st))
			}
			got := plugintest.ByName(cluster.Nodes, scores)
			for node, want := range tc.want {
				if got[node] != want {
					t.Errorf("node %s: score %d, want %d (all: %v)", node, got[node], want, got)
				}
			}
		})
	}
}

// Score reads totals by the snapshot's NodeInfo objects; a copy of one is
// found by name, and a node the snapshot does not hold is an error, never a
// silent zero.
func TestScoreLooksUpTheSnapshotsNode(t *testing.T) {
	existing := []*v1.Pod{pod("db", "db").Node("n1").Obj()}
	cluster := plugintest.NewCluster(t, existing, testNodes(), testNamespaces())
	pl, err := podaffinity.NewWithArgs(cluster.Handle, podaffinity.Args{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, state, p := context.Background(), plugintest.NewCycleState(), preferred(pod("p", "x").Obj(), false, "db", 10)
	if s := pl.PreScore(ctx, state, p, cluster.Nodes); !s.IsSuccess() {
		t.Fatal(plugintest.Describe(s))
	}
	var n1 fwk.NodeInfo
	for _, n := range cluster.Nodes {
		if n.Node().Name == "n1" {
			n1 = n
		}
	}
	want, s := pl.Score(ctx, state, p, n1)
	if !s.IsSuccess() || want != 10 {
		t.Fatalf("Score(n1) = %d, %s; want 10", want, plugintest.Describe(s))
	}
	if got, s := pl.Score(ctx, state, p, n1.Snapshot()); !s.IsSuccess() || got != want {
		t.Errorf("Score(copy of n1) = %d, %s; want %d", got, plugintest.Describe(s), want)
	}
	stranger := framework.NewNodeInfo()
	stranger.SetNode(st.MakeNode().Name("elsewhere").Label(zone, "z1").Obj())
	if _, s := pl.Score(ctx, state, p, stranger); s.Code() != fwk.Error {
		t.Errorf("Score(node outside the snapshot) = %s, want Error", plugintest.Describe(s))
	}
}
