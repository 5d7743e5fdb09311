package counting

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// antiPod is a pod on node-1 with one required anti-affinity term.
func antiPod(name string, sel *metav1.LabelSelector) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name)},
		Spec: v1.PodSpec{NodeName: "node-1", Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: v1.LabelHostname}},
		}}},
	}
}

// TestDemands: a node is skipped for an incoming pod only when no term
// there can match it, whatever the selector's form; and the answer follows
// the node's generation.
func TestDemands(t *testing.T) {
	app := func(v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": v}}
	}
	expr := func(op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: op, Values: values}}}
	}
	tests := []struct {
		name      string
		selectors []*metav1.LabelSelector
		labels    map[string]string
		want      bool
	}{
		{"matchLabels, pod has the pair", []*metav1.LabelSelector{app("a")}, map[string]string{"app": "a"}, true},
		{"matchLabels, other value", []*metav1.LabelSelector{app("a")}, map[string]string{"app": "b"}, false},
		{"matchLabels, no such label", []*metav1.LabelSelector{app("a")}, map[string]string{"tier": "a"}, false},
		{"two terms, the second's pair", []*metav1.LabelSelector{app("a"), app("b")}, map[string]string{"app": "b"}, true},
		{"In, one of its values", []*metav1.LabelSelector{expr(metav1.LabelSelectorOpIn, "web", "db")}, map[string]string{"tier": "db"}, true},
		{"In, none of its values", []*metav1.LabelSelector{expr(metav1.LabelSelectorOpIn, "web", "db")}, map[string]string{"tier": "cache"}, false},
		{"NotIn demands no pair", []*metav1.LabelSelector{expr(metav1.LabelSelectorOpNotIn, "web")}, map[string]string{}, true},
		{"Exists demands no pair", []*metav1.LabelSelector{expr(metav1.LabelSelectorOpExists)}, map[string]string{"app": "x"}, true},
		{"empty selector matches all", []*metav1.LabelSelector{{}}, nil, true},
		{"one open term opens the node", []*metav1.LabelSelector{app("a"), expr(metav1.LabelSelectorOpExists)}, map[string]string{"app": "b"}, true},
		{"no anti-affinity pods", nil, map[string]string{"app": "a"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pods []*v1.Pod
			for i, sel := range tc.selectors {
				pods = append(pods, antiPod(string(rune('a'+i)), sel))
			}
			ni := framework.NewNodeInfo(pods...)
			ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}})
			d := newSkips()
			if got := d.antiMayMatch(ni, tc.labels); got != tc.want {
				t.Errorf("mayMatch = %v, want %v", got, tc.want)
			}
			// Exactness: skipped only if no term matches.
			incoming := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Labels: tc.labels}}
			matches := false
			for _, p := range ni.GetPodsWithRequiredAntiAffinity() {
				for _, term := range p.GetRequiredAntiAffinityTerms() {
					matches = matches || term.Matches(incoming, nil)
				}
			}
			if matches && !d.antiMayMatch(ni, tc.labels) {
				t.Errorf("a term matches the pod, yet the node is skipped")
			}
		})
	}
}

// TestTermMayMatch: a node is skipped for an incoming pod's own term only
// when no pod there carries a pair the term demands; never when a pod there
// matches it.
func TestTermMayMatch(t *testing.T) {
	labelled := func(name string, labels map[string]string) *v1.Pod {
		return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name), Labels: labels}, Spec: v1.PodSpec{NodeName: "node-1"}}
	}
	ni := framework.NewNodeInfo(labelled("web", map[string]string{"app": "web", "tier": "front"}), labelled("db", map[string]string{"app": "db"}))
	ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}})
	tests := []struct {
		name string
		sel  *metav1.LabelSelector
		want bool
	}{
		{"a pod carries the pair", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, true},
		{"no pod carries it", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}, false},
		{"In, one value carried", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"back", "front"}}}}, true},
		{"NotIn is open", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"x"}}}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := metav1.LabelSelectorAsSelector(tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			term := fwk.AffinityTerm{Selector: sel, TopologyKey: v1.LabelHostname, Namespaces: sets.New("default")}
			s := newSkips()
			got := s.mayMatch(ni, termDemands([]fwk.AffinityTerm{term})[0])
			if got != tc.want {
				t.Errorf("mayMatch = %v, want %v", got, tc.want)
			}
			for _, p := range ni.GetPods() {
				if term.Matches(p.GetPod(), nil) && !got {
					t.Errorf("%s matches the term, yet the node is skipped", p.GetPod().Name)
				}
			}
		})
	}
}

// TestDemandsFollowGenerations: a node's demands are recomputed when its
// generation moves, and the cache is pruned when it outgrows the cluster.
func TestDemandsFollowGenerations(t *testing.T) {
	ni := framework.NewNodeInfo(antiPod("a", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}))
	ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}})
	d := newSkips()
	b := map[string]string{"app": "b"}
	if d.antiMayMatch(ni, b) {
		t.Fatal("app=b may match a node demanding app=a")
	}
	ni.AddPod(antiPod("b", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}}))
	if !d.antiMayMatch(ni, b) {
		t.Error("after a pod demanding app=b joined (new generation), app=b is still skipped")
	}
	for i := range 100 {
		other := framework.NewNodeInfo()
		other.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: string(rune('A' + i))}})
		d.antiMayMatch(other, b)
	}
	d.prune(1)
	if d.demands.size.Load() != 0 {
		t.Errorf("%d nodes cached after pruning for a one-node cluster, want 0", d.demands.size.Load())
	}
}
