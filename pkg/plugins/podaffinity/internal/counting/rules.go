package counting

import (
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	fwk "k8s.io/kube-scheduler/framework"
)

// The counting rules: for each kind of query, which pods of a node it looks
// at and what one of them contributes. Everything the index keeps is a sum of
// these; Filter and Score only read the sums.

// Rule says how a query counts: which pods of a node it looks at, and
// what one of them contributes on that node. A node's shares are its pods'
// shares in order.
type Rule struct {
	pods func(ni fwk.NodeInfo) []fwk.PodInfo
	pod  func(p fwk.PodInfo, node *v1.Node, out []share) []share
}

// node appends node ni's shares to out.
func (c Rule) node(ni fwk.NodeInfo, out []share) []share {
	node := ni.Node()
	for _, p := range c.pods(ni) {
		out = c.pod(p, node, out)
	}
	return out
}

// ExistingAntiAffinity counts one per required anti-affinity term of a pod on the
// node that the incoming pod (namespace, labels, namespace labels) matches.
// With s, nodes whose terms cannot match the pod are skipped (demands.go).
func ExistingAntiAffinity(pod *v1.Pod, nsLabels labels.Set, s *Skips) Rule {
	return Rule{
		pods: func(ni fwk.NodeInfo) []fwk.PodInfo {
			if s != nil && !s.antiMayMatch(ni, pod.Labels) {
				return nil
			}
			return ni.GetPodsWithRequiredAntiAffinity()
		},
		pod: func(p fwk.PodInfo, node *v1.Node, out []share) []share {
			for _, t := range p.GetRequiredAntiAffinityTerms() {
				if t.Matches(pod, nsLabels) {
					out = appendShare(out, node, t.TopologyKey, 1)
				}
			}
			return out
		},
	}
}

// Affinity counts, for each pod on the node matching all terms, one in each
// term's domain. With s, a node where some term can match no pod is skipped.
func Affinity(terms []fwk.AffinityTerm, s *Skips) Rule {
	want := termDemands(terms)
	return Rule{
		pods: func(ni fwk.NodeInfo) []fwk.PodInfo {
			if s != nil {
				for _, w := range want {
					if !s.mayMatch(ni, w) {
						return nil
					}
				}
			}
			return ni.GetPods()
		},
		pod: func(p fwk.PodInfo, node *v1.Node, out []share) []share {
			if MatchesAll(terms, p.GetPod()) {
				for i := range terms {
					out = appendShare(out, node, terms[i].TopologyKey, 1)
				}
			}
			return out
		},
	}
}

// AntiAffinity counts, for each pod on the node and each term it matches, one
// in the term's domain. With s, a node where no term can match a pod is
// skipped.
func AntiAffinity(terms []fwk.AffinityTerm, s *Skips) Rule {
	want := termDemands(terms)
	return Rule{
		pods: func(ni fwk.NodeInfo) []fwk.PodInfo {
			if s != nil && !slices.ContainsFunc(want, func(w termDemand) bool { return s.mayMatch(ni, w) }) {
				return nil
			}
			return ni.GetPods()
		},
		pod: func(p fwk.PodInfo, node *v1.Node, out []share) []share {
			for i := range terms {
				if terms[i].Matches(p.GetPod(), nil) {
					out = appendShare(out, node, terms[i].TopologyKey, 1)
				}
			}
			return out
		},
	}
}

// ScoreRelation describes one incoming pod's relation to existing pods,
// which its Rule counts: the weights Score sums per domain.
type ScoreRelation struct {
	Pod *v1.Pod
	// NamespaceLabels are the labels of the pod's namespace.
	NamespaceLabels labels.Set
	// Preferred and AntiPreferred are the pod's preferred terms, their
	// namespaceSelectors resolved into namespaces.
	Preferred, AntiPreferred []fwk.WeightedAffinityTerm
	// HardWeight is what an existing pod's required affinity term adds when
	// the pod matches it (0: nothing).
	HardWeight int32
	// OwnPreferred says the pod has preferred terms of its own; without
	// them only pods with terms of their own can add weight.
	OwnPreferred bool
}

// addTerms appends weight*sign for every term that p matches, in the domain
// of the node p runs on. nsLabels are p's namespace labels; nil when the
// terms' namespaceSelectors are already resolved.
func addTerms(out []share, terms []fwk.WeightedAffinityTerm, p *v1.Pod, nsLabels labels.Set, node *v1.Node, sign int32) []share {
	for i := range terms {
		if terms[i].Matches(p, nsLabels) {
			out = appendShare(out, node, terms[i].TopologyKey, int64(terms[i].Weight*sign))
		}
	}
	return out
}

// addExisting scores the relation between the incoming pod and existing pod
// p on node, both ways: the incoming pod's preferred terms matching p, and p's
// terms (required affinity at the hard weight, preferred ones at theirs)
// matching the incoming pod.
func (sc *ScoreRelation) addExisting(p fwk.PodInfo, node *v1.Node, out []share) []share {
	existing := p.GetPod()
	out = addTerms(out, sc.Preferred, existing, nil, node, 1)
	out = addTerms(out, sc.AntiPreferred, existing, nil, node, -1)
	if sc.HardWeight > 0 {
		for _, t := range p.GetRequiredAffinityTerms() {
			if t.Matches(sc.Pod, sc.NamespaceLabels) {
				out = appendShare(out, node, t.TopologyKey, int64(sc.HardWeight))
			}
		}
	}
	out = addTerms(out, p.GetPreferredAffinityTerms(), sc.Pod, sc.NamespaceLabels, node, 1)
	return addTerms(out, p.GetPreferredAntiAffinityTerms(), sc.Pod, sc.NamespaceLabels, node, -1)
}

// Rule is how the relation counts: a pod without preferred terms of its own
// relates only to pods with terms of their own.
func (sc *ScoreRelation) Rule() Rule {
	pods := fwk.NodeInfo.GetPodsWithAffinity
	if sc.OwnPreferred {
		pods = fwk.NodeInfo.GetPods
	}
	return Rule{pods: pods, pod: sc.addExisting}
}

// MatchesAll reports whether pod matches every term; false for no terms.
// It matches without namespace labels. PreFilter's terms have their
// namespaceSelector resolved into namespaces, so none are needed there. The
// queueing hints pass terms as parsed, whose non-empty namespaceSelector then
// matches nothing, as in the in-tree plugin's hints; such a pending pod is
// retried by the scheduling queue's periodic flush instead.
func MatchesAll(terms []fwk.AffinityTerm, pod *v1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !terms[i].Matches(pod, nil) {
			return false
		}
	}
	return true
}

// MatchesAny reports whether pod matches at least one term, without
// namespace labels (see MatchesAll).
func MatchesAny(terms []fwk.AffinityTerm, pod *v1.Pod) bool {
	for i := range terms {
		if terms[i].Matches(pod, nil) {
			return true
		}
	}
	return false
}
