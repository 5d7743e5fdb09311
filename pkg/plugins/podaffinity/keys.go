package podaffinity

import (
	"encoding/json"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

// Index keys hold everything a query's shares depend on, encoded as JSON so
// that different inputs can never collide, however odd their strings.

// termsKey identifies the query of a pod's own required terms: the terms as
// written (selectors, topology keys) and the namespaces each resolved to
// (its own namespace, the listed ones, and the namespaceSelector's matches
// at this cycle).
func termsKey(kind string, spec []v1.PodAffinityTerm, resolved []fwk.AffinityTerm) (string, error) {
	return encodeKey(kind, spec, namespacesOf(resolved, termNamespaces))
}

// identityKey identifies a query that matches existing pods' terms against
// the incoming pod: its namespace's class (what the terms can tell of it,
// see classes.go) and its labels under the keys that existing pods'
// selectors name (selectorKeys). Labels under other keys cannot change a
// match, and pods often carry a label of their own (a StatefulSet's pod
// name, a template hash), which would otherwise give every pod a query of
// its own.
func identityKey(kind string, pod *v1.Pod, nsLabels labels.Set, selectorKeys []string, namespaces *namespaceClasses) (string, error) {
	projected := make(map[string]string, len(selectorKeys))
	for _, k := range selectorKeys {
		if v, ok := pod.Labels[k]; ok {
			projected[k] = v
		}
	}
	return encodeKey(kind, namespaces.class(pod.Namespace, nsLabels), selectorKeys, projected)
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

func encodeKey(kind string, parts ...any) (string, error) {
	data, err := json.Marshal(parts)
	if err != nil {
		return "", fmt.Errorf("%s: building the %s index key: %w", Name, kind, err)
	}
	return kind + "\x00" + string(data), nil
}

// scoreQueryKey: the shares depend on the incoming pod's preferred terms (as
// written and as resolved), and on its identity as existing pods' terms see it
// (identityKey). The hard weight is fixed per plugin instance.
func scoreQueryKey(sc *scoreRelation, keys *selectorKeysState) (string, error) {
	var spec [2][]v1.WeightedPodAffinityTerm
	if a := sc.pod.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			spec[0] = a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
		if a.PodAntiAffinity != nil {
			spec[1] = a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		}
	}
	identity, err := identityKey("score", sc.pod, sc.nsLabels, keys.all, keys.allNamespaces)
	if err != nil {
		return "", err
	}
	return encodeKey(identity, spec,
		namespacesOf(sc.preferred, weightedTermNamespaces), namespacesOf(sc.antiPreferred, weightedTermNamespaces))
}
