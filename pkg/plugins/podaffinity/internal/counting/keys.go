package counting

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

// Index keys hold everything a query's shares depend on, encoded so that
// different inputs never give the same key, however odd their strings: every
// string, list and map is written after its length, and the API's terms in
// their protobuf encoding (generated code, deterministic: map keys sorted),
// itself after its length. encoding/json gave the same guarantee through
// reflection at about five times the time and allocations
// (BenchmarkQueryKeys), and every cycle builds two or three keys.

// keyBuilder appends the parts of one key.
type keyBuilder struct{ b []byte }

// newKey starts a key of kind, a constant of this package (no NUL in it),
// written first and as is, so that a key tells its kind at a glance.
func newKey(kind string) *keyBuilder {
	k := &keyBuilder{b: make([]byte, 0, 128)}
	k.b = append(append(k.b, kind...), 0)
	return k
}

func (k *keyBuilder) String() string { return string(k.b) }

func (k *keyBuilder) uint(n uint64) { k.b = binary.AppendUvarint(k.b, n) }

func (k *keyBuilder) str(s string) {
	k.uint(uint64(len(s)))
	k.b = append(k.b, s...)
}

func (k *keyBuilder) strs(l []string) {
	k.uint(uint64(len(l)))
	for _, s := range l {
		k.str(s)
	}
}

// labelsUnder writes m's pairs under keys (sorted, no repeats), in that
// order, after their number.
func (k *keyBuilder) labelsUnder(m map[string]string, keys []string) {
	n := 0
	for _, key := range keys {
		if _, ok := m[key]; ok {
			n++
		}
	}
	k.uint(uint64(n))
	for _, key := range keys {
		if v, ok := m[key]; ok {
			k.str(key)
			k.str(v)
		}
	}
}

// message is a generated API type's protobuf encoding.
type message interface {
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
}

func (k *keyBuilder) message(m message) error {
	size := m.Size()
	k.uint(uint64(size))
	k.b = slices.Grow(k.b, size)
	n, err := m.MarshalToSizedBuffer(k.b[len(k.b) : len(k.b)+size])
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("encoded %d bytes of %d", n, size)
	}
	k.b = k.b[:len(k.b)+size]
	return nil
}

// writeTerms writes spec's terms as written, then each one's resolved namespaces.
func writeTerms[T any, PT interface {
	*T
	message
}](k *keyBuilder, kind string, spec []T, namespaces [][]string) error {
	k.uint(uint64(len(spec)))
	for i := range spec {
		if err := k.message(PT(&spec[i])); err != nil {
			return fmt.Errorf("building the %s query key: %w", kind, err)
		}
	}
	k.uint(uint64(len(namespaces)))
	for _, l := range namespaces {
		k.strs(l)
	}
	return nil
}

// TermsKey identifies the query of a pod's own required terms: the terms as
// written (selectors, topology keys) and the namespaces each resolved to
// (its own namespace, the listed ones, and the namespaceSelector's matches
// at this cycle).
func TermsKey(kind string, spec []v1.PodAffinityTerm, resolved []fwk.AffinityTerm) (string, error) {
	k := newKey(kind)
	if err := writeTerms(k, kind, spec, namespacesOf(resolved, termNamespaces)); err != nil {
		return "", err
	}
	return k.String(), nil
}

// IdentityKey identifies a query that matches existing pods' terms against
// the incoming pod: its namespace's class (what the terms can tell of it,
// see classes.go) and its labels under the keys that existing pods'
// selectors name (selectorKeys, sorted). Labels under other keys cannot
// change a match, and pods often carry a label of their own (a StatefulSet's
// pod name, a template hash), which would otherwise give every pod a query
// of its own.
func IdentityKey(kind string, pod *v1.Pod, nsLabels labels.Set, selectorKeys []string, namespaces *NamespaceClasses) string {
	return writeIdentity(newKey(kind), pod, nsLabels, selectorKeys, namespaces).String()
}

func writeIdentity(k *keyBuilder, pod *v1.Pod, nsLabels labels.Set, selectorKeys []string, namespaces *NamespaceClasses) *keyBuilder {
	namespaces.writeClass(k, pod.Namespace, nsLabels)
	k.strs(selectorKeys)
	k.labelsUnder(pod.Labels, selectorKeys)
	return k
}

// namespacesOf lists each term's resolved namespaces, sorted.
func namespacesOf[T fwk.AffinityTerm | fwk.WeightedAffinityTerm](terms []T, namespaces func(*T) sets.Set[string]) [][]string {
	out := make([][]string, len(terms))
	for i := range terms {
		out[i] = sortedSet(namespaces(&terms[i]))
	}
	return out
}

func termNamespaces(t *fwk.AffinityTerm) sets.Set[string] { return t.Namespaces }

func weightedTermNamespaces(t *fwk.WeightedAffinityTerm) sets.Set[string] { return t.Namespaces }

func sortedSet(s sets.Set[string]) []string {
	l := s.UnsortedList()
	sort.Strings(l)
	return l
}

// ScoreKey names the score query of sc, whose shares depend on the incoming pod's identity as
// existing pods' terms see it (IdentityKey), and on its preferred terms (as
// written and as resolved). The hard weight is fixed per plugin instance.
func ScoreKey(sc *ScoreRelation, sel *SelectorKeys) (string, error) {
	var affinity, anti []v1.WeightedPodAffinityTerm
	if a := sc.Pod.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			affinity = a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
		if a.PodAntiAffinity != nil {
			anti = a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
	}
	k := writeIdentity(newKey("score"), sc.Pod, sc.NamespaceLabels, sel.Labels, sel.Namespaces)
	if err := writeTerms(k, "score", affinity, namespacesOf(sc.Preferred, weightedTermNamespaces)); err != nil {
		return "", err
	}
	if err := writeTerms(k, "score", anti, namespacesOf(sc.AntiPreferred, weightedTermNamespaces)); err != nil {
		return "", err
	}
	return k.String(), nil
}
