package counting

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

func keyTerm(sel *metav1.LabelSelector, topology string, namespaces ...string) v1.PodAffinityTerm {
	return v1.PodAffinityTerm{LabelSelector: sel, TopologyKey: topology, Namespaces: namespaces}
}

func resolvedTo(namespaces ...string) fwk.AffinityTerm {
	return fwk.AffinityTerm{Namespaces: sets.New(namespaces...)}
}

// checked returns a key builder's key, failing t on its error.
func checked(t testing.TB) func(string, error) string {
	return func(key string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
}

func keyPod(ns string, lbls map[string]string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Labels: lbls}}
}

// TestTermsKeysTellInputsApart: every input a terms query depends on changes
// its key, including inputs whose strings would run together if simply
// concatenated; equal inputs give equal keys whatever the maps' order.
func TestTermsKeysTellInputsApart(t *testing.T) {
	app := func(v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": v}}
	}
	cases := []struct {
		name     string
		kind     string
		spec     []v1.PodAffinityTerm
		resolved []fwk.AffinityTerm
	}{
		{"base", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"kind", "anti-affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"selector value", "affinity", []v1.PodAffinityTerm{keyTerm(app("b"), "zone")}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"topology key", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "host")}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"no selector", "affinity", []v1.PodAffinityTerm{keyTerm(nil, "zone")}, []fwk.AffinityTerm{resolvedTo("default")}},
		// An empty selector matches every pod, a missing one none.
		{"empty selector", "affinity", []v1.PodAffinityTerm{keyTerm(&metav1.LabelSelector{}, "zone")}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"empty namespaceSelector", "affinity", []v1.PodAffinityTerm{{LabelSelector: app("a"), TopologyKey: "zone", NamespaceSelector: &metav1.LabelSelector{}}}, []fwk.AffinityTerm{resolvedTo("default")}},
		{"resolved namespaces", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("other")}},
		{"two namespaces", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("default", "other")}},
		{"names that run together", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("defaultother")}},
		{"two terms", "affinity", []v1.PodAffinityTerm{keyTerm(app("a"), "zone"), keyTerm(app("a"), "zone")}, []fwk.AffinityTerm{resolvedTo("default"), resolvedTo("default")}},
	}
	must := checked(t)
	seen := map[string]string{}
	for _, c := range cases {
		key := must(TermsKey(c.kind, c.spec, c.resolved))
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q have the same key", c.name, other)
		}
		seen[key] = c.name
		again := must(TermsKey(c.kind, c.spec, c.resolved))
		if again != key {
			t.Errorf("%q: the key differs from one call to the next", c.name)
		}
	}
	twoLabels := func(order ...string) *metav1.LabelSelector {
		m := map[string]string{}
		for _, k := range order {
			m[k] = "v"
		}
		return &metav1.LabelSelector{MatchLabels: m}
	}
	a := must(TermsKey("affinity", []v1.PodAffinityTerm{keyTerm(twoLabels("x", "y"), "zone")}, []fwk.AffinityTerm{resolvedTo("b", "a")}))
	b := must(TermsKey("affinity", []v1.PodAffinityTerm{keyTerm(twoLabels("y", "x"), "zone")}, []fwk.AffinityTerm{resolvedTo("a", "b")}))
	if a != b {
		t.Error("equal terms and namespaces built in another order have different keys")
	}
}

// TestIdentityKeysTellInputsApart: the identity key changes with the
// namespace's class, the selector keys and the pod's labels under them, and
// not with labels under other keys.
func TestIdentityKeysTellInputsApart(t *testing.T) {
	classes := &NamespaceClasses{names: []sets.Set[string]{sets.New("default")}, labelKeys: []string{"env"}, version: 7}
	prod := labels.Set{"env": "prod"}
	cases := []struct {
		name         string
		pod          *v1.Pod
		nsLabels     labels.Set
		selectorKeys []string
		classes      *NamespaceClasses
	}{
		{"base", keyPod("default", map[string]string{"app": "a"}), prod, []string{"app"}, classes},
		{"label value", keyPod("default", map[string]string{"app": "b"}), prod, []string{"app"}, classes},
		{"label missing", keyPod("default", nil), prod, []string{"app"}, classes},
		{"label empty", keyPod("default", map[string]string{"app": ""}), prod, []string{"app"}, classes},
		{"selector keys", keyPod("default", map[string]string{"app": "a"}), prod, []string{"app", "tier"}, classes},
		{"namespace outside the sets", keyPod("other", map[string]string{"app": "a"}), prod, []string{"app"}, classes},
		{"namespace labels", keyPod("default", map[string]string{"app": "a"}), labels.Set{"env": "dev"}, []string{"app"}, classes},
		{"no classes", keyPod("default", map[string]string{"app": "a"}), prod, []string{"app"}, nil},
		{"key and value that run together", keyPod("default", map[string]string{"a": "pp"}), prod, []string{"a"}, classes},
	}
	seen := map[string]string{}
	for _, c := range cases {
		key := IdentityKey("existing-anti", c.pod, c.nsLabels, c.selectorKeys, c.classes)
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q have the same key", c.name, other)
		}
		seen[key] = c.name
	}
	base := IdentityKey("existing-anti", keyPod("default", map[string]string{"app": "a"}), prod, []string{"app"}, classes)
	unselected := IdentityKey("existing-anti", keyPod("default", map[string]string{"app": "a", "pod-name": "web-0"}), prod, []string{"app"}, classes)
	if unselected != base {
		t.Error("a label no selector names changed the identity key")
	}
	if score := IdentityKey("score", keyPod("default", map[string]string{"app": "a"}), prod, []string{"app"}, classes); score == base {
		t.Error("identity keys of different kinds are equal")
	}
}

// BenchmarkQueryKeys: the keys a hostname anti-affinity pod's cycle builds.
func BenchmarkQueryKeys(b *testing.B) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"color": "group-1"}}
	spec := []v1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: v1.LabelHostname}}
	resolved := []fwk.AffinityTerm{resolvedTo("default")}
	p := keyPod("default", map[string]string{"color": "group-1", "pod-template-hash": "5d8f7c9b6"})
	p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: spec}}
	sc := &ScoreRelation{Pod: p}
	keys := &SelectorKeys{Labels: []string{"color"}, RequiredAntiLabels: []string{"color"}}
	must := checked(b)
	b.ReportAllocs()
	for b.Loop() {
		must(TermsKey("anti-affinity", spec, resolved))
		IdentityKey("existing-anti", p, nil, keys.RequiredAntiLabels, nil)
		must(ScoreKey(sc, keys))
	}
}
