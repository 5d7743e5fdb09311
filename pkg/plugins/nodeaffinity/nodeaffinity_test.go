package nodeaffinity_test

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
)

func req(key string, op v1.NodeSelectorOperator, values ...string) v1.NodeSelectorRequirement {
	return v1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func required(terms ...v1.NodeSelectorTerm) *v1.Affinity {
	return &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func exprs(r ...v1.NodeSelectorRequirement) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchExpressions: r}
}

func fieldsTerm(r ...v1.NodeSelectorRequirement) v1.NodeSelectorTerm {
	return v1.NodeSelectorTerm{MatchFields: r}
}

// TestFilterRequired covers every operator, ORed terms and ANDed expressions
// against one node labelled zone=z1, gen=3.
func TestFilterRequired(t *testing.T) {
	node := st.MakeNode().Name("n1").Label("zone", "z1").Label("gen", "3").Obj()
	tests := []struct {
		name     string
		affinity *v1.Affinity
		want     bool
	}{
		{"In matches", required(exprs(req("zone", v1.NodeSelectorOpIn, "z1", "z2"))), true},
		{"In misses", required(exprs(req("zone", v1.NodeSelectorOpIn, "z2"))), false},
		{"NotIn on another value", required(exprs(req("zone", v1.NodeSelectorOpNotIn, "z2"))), true},
		{"NotIn on the node's value", required(exprs(req("zone", v1.NodeSelectorOpNotIn, "z1"))), false},
		{"NotIn on a missing label passes", required(exprs(req("gpu", v1.NodeSelectorOpNotIn, "x"))), true},
		{"Exists", required(exprs(req("gen", v1.NodeSelectorOpExists))), true},
		{"Exists on a missing label", required(exprs(req("gpu", v1.NodeSelectorOpExists))), false},
		{"DoesNotExist on a missing label", required(exprs(req("gpu", v1.NodeSelectorOpDoesNotExist))), true},
		{"DoesNotExist on a present label", required(exprs(req("zone", v1.NodeSelectorOpDoesNotExist))), false},
		{"Gt below", required(exprs(req("gen", v1.NodeSelectorOpGt, "2"))), true},
		{"Gt equal", required(exprs(req("gen", v1.NodeSelectorOpGt, "3"))), false},
		{"Lt above", required(exprs(req("gen", v1.NodeSelectorOpLt, "4"))), true},
		{"Lt on a non-numeric value never matches", required(exprs(req("zone", v1.NodeSelectorOpLt, "4"))), false},
		{"expressions in a term are ANDed", required(exprs(req("zone", v1.NodeSelectorOpIn, "z1"), req("gen", v1.NodeSelectorOpGt, "5"))), false},
		{"terms are ORed", required(exprs(req("zone", v1.NodeSelectorOpIn, "z9")), exprs(req("gen", v1.NodeSelectorOpExists))), true},
		{"matchFields on the name", required(fieldsTerm(req("metadata.name", v1.NodeSelectorOpIn, "n1"))), true},
		{"matchFields NotIn the name", required(fieldsTerm(req("metadata.name", v1.NodeSelectorOpNotIn, "n1"))), false},
		{"an invalid term never matches, a valid one still can", required(exprs(req("gen", v1.NodeSelectorOpGt, "x", "y")), exprs(req("zone", v1.NodeSelectorOpExists))), true},
		{"only preferred terms: no filtering", &v1.Affinity{NodeAffinity: &v1.NodeAffinity{}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cluster := plugintest.NewCluster(t, nil, []*v1.Node{node}, nil)
			pl, _ := nodeaffinity.NewWithArgs(nodeaffinity.Args{})
			pod := st.MakePod().Name("p").Obj()
			pod.Spec.Affinity = tt.affinity
			v, _ := plugintest.Filter(ctx, pl, pod, cluster.Nodes)
			if rejected := !v.PreFilter.IsSuccess() && !v.PreFilter.IsSkip(); rejected {
				t.Fatalf("PreFilter = %s", plugintest.Describe(v.PreFilter))
			}
			plugintest.ExpectVerdict(t, v.At(0), tt.want, nodeaffinity.ErrReasonPod)
		})
	}
}

// TestPreFilterNodeNames: matchFields on metadata.name narrow the candidate
// nodes only when every term pins names.
func TestPreFilterNodeNames(t *testing.T) {
	nameIn := func(names ...string) v1.NodeSelectorRequirement {
		return req("metadata.name", v1.NodeSelectorOpIn, names...)
	}
	tests := []struct {
		name       string
		affinity   *v1.Affinity
		wantNames  string // fmt of the sorted names; "" means no narrowing
		wantReject bool
	}{
		{name: "one term, one name", affinity: required(fieldsTerm(nameIn("a"))), wantNames: "[a]"},
		{name: "names of ORed terms are joined", affinity: required(fieldsTerm(nameIn("a")), fieldsTerm(nameIn("b", "c"))), wantNames: "[a b c]"},
		{name: "names within a term are intersected", affinity: required(fieldsTerm(nameIn("a", "b"), nameIn("b", "c"))), wantNames: "[b]"},
		{name: "a term without names leaves every node", affinity: required(fieldsTerm(nameIn("a")), exprs(req("zone", v1.NodeSelectorOpExists)))},
		{name: "NotIn does not narrow", affinity: required(fieldsTerm(req("metadata.name", v1.NodeSelectorOpNotIn, "a")))},
		{name: "disjoint names conflict", affinity: required(fieldsTerm(nameIn("a"), nameIn("b"))), wantReject: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, _ := nodeaffinity.NewWithArgs(nodeaffinity.Args{})
			pod := st.MakePod().Name("p").Obj()
			pod.Spec.Affinity = tt.affinity
			res, status := pl.PreFilter(context.Background(), plugintest.NewCycleState(), pod, nil)
			if tt.wantReject {
				if status.Code() != fwk.UnschedulableAndUnresolvable || status.Reasons()[0] != nodeaffinity.ErrReasonConflict {
					t.Fatalf("PreFilter = %s, want UnschedulableAndUnresolvable %q", plugintest.Describe(status), nodeaffinity.ErrReasonConflict)
				}
				return
			}
			if !status.IsSuccess() {
				t.Fatalf("PreFilter = %s", plugintest.Describe(status))
			}
			got := ""
			if res != nil && !res.AllNodes() {
				got = fmt.Sprint(sortedNames(res))
			}
			if got != tt.wantNames {
				t.Errorf("PreFilterResult names = %q, want %q", got, tt.wantNames)
			}
		})
	}
}

func sortedNames(r *fwk.PreFilterResult) []string {
	return sortStrings(r.NodeNames.UnsortedList())
}

// TestAddedAffinity: the profile's required terms are enforced on every pod
// with their own reason, and its preferred terms add to every pod's score.
func TestAddedAffinity(t *testing.T) {
	ctx := context.Background()
	nodes := []*v1.Node{
		st.MakeNode().Name("batch-ssd").Label("pool", "batch").Label("disk", "ssd").Obj(),
		st.MakeNode().Name("batch-hdd").Label("pool", "batch").Label("disk", "hdd").Obj(),
		st.MakeNode().Name("web").Label("pool", "web").Label("disk", "ssd").Obj(),
	}
	cluster := plugintest.NewCluster(t, nil, nodes, nil)
	pl, err := nodeaffinity.NewWithArgs(nodeaffinity.Args{AddedAffinity: &v1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{exprs(req("pool", v1.NodeSelectorOpIn, "batch"))}},
		PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
			{Weight: 10, Preference: exprs(req("disk", v1.NodeSelectorOpIn, "ssd"))},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pod := st.MakePod().Name("plain").Obj()
	v, _ := plugintest.Filter(ctx, pl, pod, cluster.Nodes)
	if !v.PreFilter.IsSuccess() {
		t.Fatalf("PreFilter = %s; addedAffinity must apply to pods without affinity", plugintest.Describe(v.PreFilter))
	}
	for i, n := range cluster.Nodes {
		want := n.Node().Labels["pool"] == "batch"
		if got := v.At(i); got.IsSuccess() != want || (!want && got.Reasons()[0] != nodeaffinity.ErrReasonEnforced) {
			t.Errorf("node %s: %s, want pass=%v (reason %q)", n.Node().Name, plugintest.Describe(got), want, nodeaffinity.ErrReasonEnforced)
		}
	}
	scores, status := plugintest.Score(ctx, pl, pod, cluster.Nodes)
	want := map[string]int64{"batch-ssd": 100, "batch-hdd": 0, "web": 100}
	if got := plugintest.ByName(cluster.Nodes, scores); !status.IsSuccess() || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scores = %v %s, want %v", got, plugintest.Describe(status), want)
	}
}

// TestScore: preferred weights add up per node, then scale so the best node
// gets 100; no preferred terms skips scoring.
func TestScore(t *testing.T) {
	nodes := []*v1.Node{
		st.MakeNode().Name("both").Label("zone", "z1").Label("disk", "ssd").Obj(),
		st.MakeNode().Name("zone").Label("zone", "z1").Obj(),
		st.MakeNode().Name("none").Obj(),
	}
	pref := func(w int32, r v1.NodeSelectorRequirement) v1.PreferredSchedulingTerm {
		return v1.PreferredSchedulingTerm{Weight: w, Preference: exprs(r)}
	}
	tests := []struct {
		name  string
		terms []v1.PreferredSchedulingTerm
		want  map[string]int64
	}{
		{name: "no terms", want: map[string]int64{"both": 0, "zone": 0, "none": 0}},
		{name: "weights add up and scale", terms: []v1.PreferredSchedulingTerm{pref(30, req("zone", v1.NodeSelectorOpIn, "z1")), pref(10, req("disk", v1.NodeSelectorOpExists))}, want: map[string]int64{"both": 100, "zone": 75, "none": 0}},
		{name: "nothing matches", terms: []v1.PreferredSchedulingTerm{pref(5, req("gpu", v1.NodeSelectorOpExists))}, want: map[string]int64{"both": 0, "zone": 0, "none": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster := plugintest.NewCluster(t, nil, nodes, nil)
			pl, _ := nodeaffinity.NewWithArgs(nodeaffinity.Args{})
			pod := st.MakePod().Name("p").Obj()
			if tt.terms != nil {
				pod.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: tt.terms}}
			}
			scores, status := plugintest.Score(context.Background(), pl, pod, cluster.Nodes)
			if got := plugintest.ByName(cluster.Nodes, scores); !status.IsSuccess() || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("scores = %v %s, want %v", got, plugintest.Describe(status), tt.want)
			}
		})
	}
}

// TestQueueingHint: only a node turning from not matching to matching the
// pod's rules (and the profile's) requeues the pod.
func TestQueueingHint(t *testing.T) {
	pod := st.MakePod().Name("p").NodeAffinityIn("zone", []string{"z1"}, st.NodeSelectorTypeMatchExpressions).Obj()
	plain := st.MakeNode().Name("n").Obj()
	z1 := st.MakeNode().Name("n").Label("zone", "z1").Obj()
	z1web := st.MakeNode().Name("n").Label("zone", "z1").Label("pool", "web").Obj()
	tests := []struct {
		name     string
		added    bool
		old, new *v1.Node
		want     fwk.QueueingHint
	}{
		{name: "matching node added", new: z1, want: fwk.Queue},
		{name: "non-matching node added", new: plain, want: fwk.QueueSkip},
		{name: "label added", old: plain, new: z1, want: fwk.Queue},
		{name: "label removed", old: z1, new: plain, want: fwk.QueueSkip},
		{name: "unrelated label added", old: z1, new: z1web, want: fwk.QueueSkip},
		{name: "matches the pod but not the profile", added: true, old: plain, new: z1web, want: fwk.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a nodeaffinity.Args
			if tt.added {
				a.AddedAffinity = &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
					NodeSelectorTerms: []v1.NodeSelectorTerm{exprs(req("pool", v1.NodeSelectorOpIn, "batch"))},
				}}
			}
			pl, _ := nodeaffinity.NewWithArgs(a)
			events, _ := pl.EventsToRegister(context.Background())
			plugintest.ExpectHint(t, events[0].QueueingHintFn, pod, tt.old, tt.new, tt.want)
		})
	}
}
