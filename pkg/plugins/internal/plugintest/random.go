package plugintest

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Seed returns the seed for a randomized test: $PLACEMENT_SEED when set, else
// the clock. It is printed when the test fails, so any failure can be replayed
// with PLACEMENT_SEED=<seed>.
func Seed(t testing.TB) int64 {
	seed := time.Now().UnixNano()
	if s := os.Getenv("PLACEMENT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("PLACEMENT_SEED=%q: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with PLACEMENT_SEED=%d", seed)
		}
	})
	return seed
}

// Gen draws small random objects from a deliberately tiny vocabulary, so that
// labels, selectors, taints and tolerations collide often.
type Gen struct{ *rand.Rand }

// NewGen returns a generator for seed.
func NewGen(seed int64) Gen { return Gen{rand.New(rand.NewSource(seed))} }

func (g Gen) pick(options ...string) string { return options[g.Intn(len(options))] }

// Chance is true with probability p.
func (g Gen) Chance(p float64) bool { return g.Float64() < p }

// Label keys and values of the vocabulary.
var (
	LabelKeys   = []string{"zone", "disk", "gen", "team"}
	labelValues = map[string][]string{
		"zone": {"z1", "z2", "z3"},
		"disk": {"ssd", "hdd"},
		"gen":  {"1", "2", "3", "4", "5", "x"},
		"team": {"a", "b"},
	}
	taintKeys = []string{"k1", "k2", "k3"}
)

func (g Gen) labelValue(key string) string {
	if vals, ok := labelValues[key]; ok {
		return vals[g.Intn(len(vals))]
	}
	return g.pick("a", "b", "c")
}

// Nodes returns n nodes named n0..n(n-1) with random labels and taints.
func (g Gen) Nodes(n int) []*v1.Node {
	nodes := make([]*v1.Node, n)
	for i := range nodes {
		name := fmt.Sprintf("n%d", i)
		labels := map[string]string{}
		if g.Chance(0.9) {
			labels[v1.LabelHostname] = name
		}
		for _, k := range LabelKeys {
			if g.Chance(0.6) {
				labels[k] = g.labelValue(k)
			}
		}
		node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		for j := g.Intn(4); j > 0; j-- {
			node.Spec.Taints = append(node.Spec.Taints, g.Taint())
		}
		nodes[i] = node
	}
	return nodes
}

// Taint returns a random taint.
func (g Gen) Taint() v1.Taint {
	return v1.Taint{
		Key:    g.pick(taintKeys...),
		Value:  g.pick("", "v1", "v2"),
		Effect: v1.TaintEffect(g.pick(string(v1.TaintEffectNoSchedule), string(v1.TaintEffectPreferNoSchedule), string(v1.TaintEffectNoExecute))),
	}
}

// Toleration returns a random toleration, including the wildcard forms (empty
// key with Exists, empty effect).
func (g Gen) Toleration() v1.Toleration {
	t := v1.Toleration{Key: g.pick(append(taintKeys, "")...)}
	if t.Key == "" || g.Chance(0.4) {
		t.Operator = v1.TolerationOpExists
	} else {
		t.Operator = v1.TolerationOperator(g.pick(string(v1.TolerationOpEqual), ""))
		t.Value = g.pick("", "v1", "v2")
	}
	t.Effect = v1.TaintEffect(g.pick("", string(v1.TaintEffectNoSchedule), string(v1.TaintEffectPreferNoSchedule), string(v1.TaintEffectNoExecute)))
	return t
}

// Requirement returns a random node selector requirement on a label.
func (g Gen) Requirement() v1.NodeSelectorRequirement {
	key := g.pick(append(LabelKeys, v1.LabelHostname)...)
	op := v1.NodeSelectorOperator(g.pick("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"))
	r := v1.NodeSelectorRequirement{Key: key, Operator: op}
	switch op {
	case v1.NodeSelectorOpIn, v1.NodeSelectorOpNotIn:
		for j := 1 + g.Intn(2); j > 0; j-- {
			r.Values = append(r.Values, g.labelValue(key))
		}
	case v1.NodeSelectorOpGt, v1.NodeSelectorOpLt:
		r.Key = "gen"
		r.Values = []string{g.pick("0", "2", "3", "5")}
	}
	return r
}

// FieldRequirement returns a random requirement on metadata.name among n nodes.
func (g Gen) FieldRequirement(n int) v1.NodeSelectorRequirement {
	r := v1.NodeSelectorRequirement{Key: metav1.ObjectNameField, Operator: v1.NodeSelectorOpIn}
	if g.Chance(0.25) {
		r.Operator = v1.NodeSelectorOpNotIn
	}
	for j := 1 + g.Intn(2); j > 0; j-- {
		r.Values = append(r.Values, fmt.Sprintf("n%d", g.Intn(n+1)))
	}
	return r
}

// Term returns a random node selector term over n nodes.
func (g Gen) Term(n int) v1.NodeSelectorTerm {
	var t v1.NodeSelectorTerm
	for j := g.Intn(3); j > 0; j-- {
		t.MatchExpressions = append(t.MatchExpressions, g.Requirement())
	}
	if g.Chance(0.3) {
		for j := 1 + g.Intn(2); j > 0; j-- {
			t.MatchFields = append(t.MatchFields, g.FieldRequirement(n))
		}
	}
	return t
}

// NodeAffinity returns random required and preferred node affinity over n nodes.
func (g Gen) NodeAffinity(n int) *v1.NodeAffinity {
	a := &v1.NodeAffinity{}
	if g.Chance(0.6) {
		a.RequiredDuringSchedulingIgnoredDuringExecution = &v1.NodeSelector{}
		for j := 1 + g.Intn(3); j > 0; j-- {
			a.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(a.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, g.Term(n))
		}
	}
	if g.Chance(0.6) {
		for j := 1 + g.Intn(3); j > 0; j-- {
			term := v1.PreferredSchedulingTerm{Weight: int32(1 + g.Intn(100))}
			for k := 1 + g.Intn(2); k > 0; k-- {
				term.Preference.MatchExpressions = append(term.Preference.MatchExpressions, g.Requirement())
			}
			a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, term)
		}
	}
	return a
}

// NodePod returns a pod with random node-side constraints over n nodes:
// nodeName, nodeSelector, node affinity and tolerations.
func (g Gen) NodePod(name string, n int) *v1.Pod {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + types.UID(name)}}
	if g.Chance(0.2) {
		pod.Spec.NodeName = fmt.Sprintf("n%d", g.Intn(n+1))
	}
	if g.Chance(0.4) {
		pod.Spec.NodeSelector = map[string]string{}
		for j := 1 + g.Intn(2); j > 0; j-- {
			k := g.pick(LabelKeys...)
			pod.Spec.NodeSelector[k] = g.labelValue(k)
		}
	}
	if g.Chance(0.6) {
		pod.Spec.Affinity = &v1.Affinity{NodeAffinity: g.NodeAffinity(n)}
	}
	if g.Chance(0.6) {
		for j := 1 + g.Intn(3); j > 0; j-- {
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, g.Toleration())
		}
	}
	return pod
}

// Namespaces returns ns1..ns3 with random env labels.
func (g Gen) Namespaces() []*v1.Namespace {
	var out []*v1.Namespace
	for i := 1; i <= 3; i++ {
		ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns%d", i), Labels: map[string]string{}}}
		if g.Chance(0.8) {
			ns.Labels["env"] = g.pick("prod", "dev")
		}
		out = append(out, ns)
	}
	return out
}

var podTopologyKeys = []string{v1.LabelHostname, "zone", "team"}

// PodAffinityTerm returns a random inter-pod term.
func (g Gen) PodAffinityTerm() v1.PodAffinityTerm {
	t := v1.PodAffinityTerm{TopologyKey: g.pick(podTopologyKeys...)}
	sel := &metav1.LabelSelector{}
	switch g.Intn(3) {
	case 0:
		sel.MatchLabels = map[string]string{"app": g.pick("a", "b", "c")}
	case 1:
		sel.MatchExpressions = []metav1.LabelSelectorRequirement{{
			Key: g.pick("app", "tier"), Operator: metav1.LabelSelectorOperator(g.pick("In", "NotIn", "Exists", "DoesNotExist")),
		}}
		if op := sel.MatchExpressions[0].Operator; op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			sel.MatchExpressions[0].Values = []string{g.pick("a", "b", "x", "y")}
		}
	}
	if !g.Chance(0.05) {
		t.LabelSelector = sel
	}
	switch g.Intn(4) {
	case 1:
		t.Namespaces = []string{g.pick("ns1", "ns2", "ns3")}
	case 2:
		t.Namespaces = []string{"ns1", "ns3"}
	}
	switch g.Intn(4) {
	case 1:
		t.NamespaceSelector = &metav1.LabelSelector{}
	case 2:
		t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": g.pick("prod", "dev")}}
	}
	return t
}

func (g Gen) podTerms(max int) []v1.PodAffinityTerm {
	var out []v1.PodAffinityTerm
	for j := g.Intn(max + 1); j > 0; j-- {
		out = append(out, g.PodAffinityTerm())
	}
	return out
}

func (g Gen) weightedTerms(max int) []v1.WeightedPodAffinityTerm {
	var out []v1.WeightedPodAffinityTerm
	for j := g.Intn(max + 1); j > 0; j-- {
		out = append(out, v1.WeightedPodAffinityTerm{Weight: int32(1 + g.Intn(100)), PodAffinityTerm: g.PodAffinityTerm()})
	}
	return out
}

// AffinityPod returns a pod in a random namespace with random labels and, with
// probability p, random inter-pod affinity and anti-affinity.
func (g Gen) AffinityPod(name string, p float64) *v1.Pod {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: g.pick("ns1", "ns2", "ns3"), UID: types.UID("uid-" + name), Labels: map[string]string{},
	}}
	if g.Chance(0.8) {
		pod.Labels["app"] = g.pick("a", "b", "c")
	}
	if g.Chance(0.5) {
		pod.Labels["tier"] = g.pick("x", "y")
	}
	if g.Chance(p) {
		pod.Spec.Affinity = &v1.Affinity{
			PodAffinity: &v1.PodAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution:  g.podTerms(2),
				PreferredDuringSchedulingIgnoredDuringExecution: g.weightedTerms(2),
			},
			PodAntiAffinity: &v1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution:  g.podTerms(2),
				PreferredDuringSchedulingIgnoredDuringExecution: g.weightedTerms(2),
			},
		}
	}
	return pod
}

// PlacedPods returns up to max pods bound to random nodes among nodes.
func (g Gen) PlacedPods(max int, nodes []*v1.Node, p float64) []*v1.Pod {
	var out []*v1.Pod
	for j := g.Intn(max + 1); j > 0; j-- {
		pod := g.AffinityPod(fmt.Sprintf("e%d", j), p)
		pod.Spec.NodeName = nodes[g.Intn(len(nodes))].Name
		out = append(out, pod)
	}
	return out
}
