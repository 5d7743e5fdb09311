package podaffinity_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

const zone = v1.LabelTopologyZone

// Four nodes: n1 and n2 in zone z1, n3 in z2, n4 without a zone label.
func testNodes() []*v1.Node {
	node := func(name, z string) *v1.Node {
		w := st.MakeNode().Name(name).Label(v1.LabelHostname, name)
		if z != "" {
			w = w.Label(zone, z)
		}
		return w.Obj()
	}
	return []*v1.Node{node("n1", "z1"), node("n2", "z1"), node("n3", "z2"), node("n4", "")}
}

func testNamespaces() []*v1.Namespace {
	return []*v1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"env": "prod"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"env": "dev"}}},
	}
}

func pod(name, app string) *st.PodWrapper {
	return st.MakePod().Namespace("default").Name(name).UID(name).Label("app", app)
}

func sel(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// withTerm adds one required term with explicit namespaces fields.
func withTerm(p *v1.Pod, anti bool, app, key string, namespaces []string, nsSelector *metav1.LabelSelector) *v1.Pod {
	term := v1.PodAffinityTerm{LabelSelector: sel(app), TopologyKey: key, Namespaces: namespaces, NamespaceSelector: nsSelector}
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if anti {
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}
	} else {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}
	}
	return p
}

type verdict struct {
	code   fwk.Code
	reason string
}

var (
	pass         = verdict{code: fwk.Success}
	noAffinity   = verdict{fwk.UnschedulableAndUnresolvable, podaffinity.ErrReasonAffinity}
	antiAffinity = verdict{fwk.Unschedulable, podaffinity.ErrReasonAntiAffinity}
	existingAnti = verdict{fwk.Unschedulable, podaffinity.ErrReasonExistingAntiAffinity}
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
