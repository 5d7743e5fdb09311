package counting

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// SelectorKeys is what the terms of the pods in a snapshot read of an
// incoming pod: the label keys their selectors name, what they read of
// namespaces, and whether any of them can add weight in Score. The identity
// queries (IdentityKey, ScoreKey) key on the incoming pod's labels under
// these keys only, so that pods alike to every existing term share a view.
type SelectorKeys struct {
	// Labels are the label keys of every term, sorted; RequiredAntiLabels
	// those of required anti-affinity terms, which alone decide the
	// existing-anti-affinity query.
	Labels, RequiredAntiLabels []string
	// Namespaces and RequiredAntiNamespaces are what the same terms read of
	// namespaces; nil when no term names a namespace or reads a namespace
	// label (every namespace is then alike).
	Namespaces, RequiredAntiNamespaces *NamespaceClasses
	// Scoring says some pod has terms that score: required affinity (at
	// the hard weight) or preferred terms.
	Scoring bool
}

// SelectorKeysQuery is the query key of the selector-keys query; it counts
// with SelectorKeysRule, and ReadSelectorKeys reads its sums.
const SelectorKeysQuery = "selector-keys"

// The selector-keys query is counted by a view like any other query, so its
// shares are in Domains, but they are not topology domains: a share's Key is
// what one term reads (a pod label key as is, or a mark below for what it
// reads of namespaces), and its Value is requiredAnti when the term is a
// required anti-affinity term, "" otherwise. Only this file writes and reads
// these shares; ReadSelectorKeys turns their sums into SelectorKeys.
const (
	// requiredAnti marks the shares of required anti-affinity terms.
	requiredAnti = "required-anti"
	// namespacesMark prefixes the share of a term's namespaces (encoded by
	// encodeNames); namespaceLabelMark that of a namespaceSelector's label
	// key; scoringMark is the whole key of a pod with terms that score.
	// NUL cannot start a label key (the API refuses it), so none of these
	// is read as a pod label key.
	namespacesMark     = "\x00namespaces:"
	namespaceLabelMark = "\x00namespace-label:"
	scoringMark        = "\x00scoring"
)

// SelectorKeysRule counts, for each pod with terms on a node, one share per
// label key a term selects on, per namespace set and namespaceSelector label
// key a term reads, and one scoringMark share if the pod's terms can score.
var SelectorKeysRule = Rule{
	pods: fwk.NodeInfo.GetPodsWithAffinity,
	pod: func(p fwk.PodInfo, _ *v1.Node, out []share) []share {
		if len(p.GetRequiredAffinityTerms())+len(p.GetPreferredAffinityTerms())+len(p.GetPreferredAntiAffinityTerms()) > 0 {
			out = append(out, share{Domain{Key: scoringMark}, 1})
		}
		for _, t := range p.GetRequiredAffinityTerms() {
			out = termReads(out, &t, "")
		}
		for _, t := range p.GetRequiredAntiAffinityTerms() {
			out = termReads(out, &t, requiredAnti)
		}
		for _, terms := range [][]fwk.WeightedAffinityTerm{p.GetPreferredAffinityTerms(), p.GetPreferredAntiAffinityTerms()} {
			for i := range terms {
				out = termReads(out, &terms[i].AffinityTerm, "")
			}
		}
		return out
	},
}

// termReads appends what term t reads of an incoming pod, each share with
// value mark.
func termReads(out []share, t *fwk.AffinityTerm, mark string) []share {
	reqs, _ := t.Selector.Requirements()
	for _, r := range reqs {
		out = append(out, share{Domain{Key: r.Key(), Value: mark}, 1})
	}
	if t.Namespaces.Len() > 0 {
		out = append(out, share{Domain{Key: namespacesMark + encodeNames(t.Namespaces), Value: mark}, 1})
	}
	// A nil namespaceSelector parses to one that is not selectable and
	// matches nothing: it reads no label.
	if reqs, selectable := t.NamespaceSelector.Requirements(); selectable {
		for _, r := range reqs {
			out = append(out, share{Domain{Key: namespaceLabelMark + r.Key(), Value: mark}, 1})
		}
	}
	return out
}

// ReadSelectorKeys reads the sums of the selector-keys query; nil sums (no
// pod with terms) read as no keys. The namespace classes come from cache, so
// that a cycle whose terms read the same namespaces keeps their version.
func ReadSelectorKeys(sums *Sums, cache *ClassCache) SelectorKeys {
	s := SelectorKeys{Scoring: sums.Get(Domain{Key: scoringMark}) > 0}
	if sums == nil {
		return s
	}
	// The keys are sorted, and so is each kind of them below.
	var sets, labelKeys, antiSets, antiLabelKeys []string
	for _, k := range sums.keys {
		anti := sums.Get(Domain{k, requiredAnti}) > 0
		add := func(all, antiOnly *[]string, name string) {
			*all = append(*all, name)
			if anti {
				*antiOnly = append(*antiOnly, name)
			}
		}
		switch {
		case k == scoringMark:
		case strings.HasPrefix(k, namespacesMark):
			add(&sets, &antiSets, k[len(namespacesMark):])
		case strings.HasPrefix(k, namespaceLabelMark):
			add(&labelKeys, &antiLabelKeys, k[len(namespaceLabelMark):])
		default:
			add(&s.Labels, &s.RequiredAntiLabels, k)
		}
	}
	s.Namespaces = cache.get("all", sets, labelKeys)
	s.RequiredAntiNamespaces = cache.get("required-anti", antiSets, antiLabelKeys)
	return s
}
