package podaffinity

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	fwk "k8s.io/kube-scheduler/framework"
)

// The counting rules: for each kind of query, which pods of a node it looks
// at and what one of them contributes. Everything the index keeps is a sum of
// these; Filter and Score only read the sums.

// countRule says how a query counts: which pods of a node it looks at, and
// what one of them contributes on that node. A node's shares are its pods'
// shares in order.
type countRule struct {
	pods func(ni fwk.NodeInfo) []fwk.PodInfo
	pod  func(p fwk.PodInfo, node *v1.Node, out []share) []share
}

// node appends node ni's shares to out.
func (c countRule) node(ni fwk.NodeInfo, out []share) []share {
	node := ni.Node()
	for _, p := range c.pods(ni) {
		out = c.pod(p, node, out)
	}
	return out
}

// existingAntiShares: one per required anti-affinity term of a pod on the
// node that the incoming pod (namespace, labels, namespace labels) matches.
func existingAntiShares(pod *v1.Pod, nsLabels labels.Set) countRule {
	return countRule{
		pods: fwk.NodeInfo.GetPodsWithRequiredAntiAffinity,
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

// affinityShares: for each pod on the node matching all terms, one in each
// term's domain.
func affinityShares(terms []fwk.AffinityTerm) countRule {
	return countRule{
		pods: fwk.NodeInfo.GetPods,
		pod: func(p fwk.PodInfo, node *v1.Node, out []share) []share {
			if matchesAll(terms, p.GetPod()) {
				for i := range terms {
					out = appendShare(out, node, terms[i].TopologyKey, 1)
				}
			}
			return out
		},
	}
}

// antiAffinityShares: for each pod on the node and each term it matches, one
// in the term's domain.
func antiAffinityShares(terms []fwk.AffinityTerm) countRule {
	return countRule{
		pods: fwk.NodeInfo.GetPods,
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

// scoreRelation describes one incoming pod's relation to existing pods.
type scoreRelation struct {
	pod                      *v1.Pod
	nsLabels                 labels.Set
	preferred, antiPreferred []fwk.WeightedAffinityTerm
	hardWeight               int32
	ownPreferred             bool
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
func (sc *scoreRelation) addExisting(p fwk.PodInfo, node *v1.Node, out []share) []share {
	existing := p.GetPod()
	out = addTerms(out, sc.preferred, existing, nil, node, 1)
	out = addTerms(out, sc.antiPreferred, existing, nil, node, -1)
	if sc.hardWeight > 0 {
		for _, t := range p.GetRequiredAffinityTerms() {
			if t.Matches(sc.pod, sc.nsLabels) {
				out = appendShare(out, node, t.TopologyKey, int64(sc.hardWeight))
			}
		}
	}
	out = addTerms(out, p.GetPreferredAffinityTerms(), sc.pod, sc.nsLabels, node, 1)
	return addTerms(out, p.GetPreferredAntiAffinityTerms(), sc.pod, sc.nsLabels, node, -1)
}

// rule is how the relation counts: a pod without preferred terms of its own
// relates only to pods with terms of their own.
func (sc *scoreRelation) rule() countRule {
	pods := fwk.NodeInfo.GetPodsWithAffinity
	if sc.ownPreferred {
		pods = fwk.NodeInfo.GetPods
	}
	return countRule{pods: pods, pod: sc.addExisting}
}

// selectorKeysQuery is the index key of the label keys existing pods' terms
// select on.
const selectorKeysQuery = "selector-keys"

// selectorKeyShares: one per label key that a term (required or preferred,
// affinity or anti-affinity) of a pod on the node selects on. The key rides
// in the domain's key; the sum's keys are then the label keys in use. Keys
// of required anti-affinity terms ride with the value requiredAntiMark
// instead, since they alone decide which pods the existing-anti query tells
// apart. What a term reads of namespaces rides the same way (see
// classes.go). A pod whose terms can add weight in Score adds one
// scoringMark.
var selectorKeyShares = countRule{
	pods: fwk.NodeInfo.GetPodsWithAffinity,
	pod: func(p fwk.PodInfo, _ *v1.Node, out []share) []share {
		if len(p.GetRequiredAffinityTerms())+len(p.GetPreferredAffinityTerms())+len(p.GetPreferredAntiAffinityTerms()) > 0 {
			out = append(out, share{scoringMark, 1})
		}
		add := func(t *fwk.AffinityTerm, value string) {
			reqs, _ := t.Selector.Requirements()
			for _, r := range reqs {
				out = append(out, share{domain{key: r.Key(), value: value}, 1})
			}
			out = namespaceShares(out, t, value)
		}
		for _, t := range p.GetRequiredAffinityTerms() {
			add(&t, "")
		}
		for _, t := range p.GetRequiredAntiAffinityTerms() {
			add(&t, requiredAntiMark)
		}
		for _, terms := range [][]fwk.WeightedAffinityTerm{p.GetPreferredAffinityTerms(), p.GetPreferredAntiAffinityTerms()} {
			for i := range terms {
				add(&terms[i].AffinityTerm, "")
			}
		}
		return out
	},
}

// requiredAntiMark marks, in the selector-keys view, the keys that required
// anti-affinity terms select on.
const requiredAntiMark = "required-anti"

// scoringMark counts, in the selector-keys view, the pods with terms that
// score (required affinity at the hard weight, preferred terms). Its key
// cannot be a label key: the API refuses NUL in label keys.
var scoringMark = domain{key: "\x00scoring"}

// matchesAll reports whether pod matches every term; false for no terms.
// It matches without namespace labels. PreFilter's terms have their
// namespaceSelector resolved into namespaces, so none are needed there. The
// queueing hints pass terms as parsed, whose non-empty namespaceSelector then
// matches nothing, as in the in-tree plugin's hints; such a pending pod is
// retried by the scheduling queue's periodic flush instead.
func matchesAll(terms []fwk.AffinityTerm, pod *v1.Pod) bool {
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

// matchesAny reports whether pod matches at least one term, without
// namespace labels (see matchesAll).
func matchesAny(terms []fwk.AffinityTerm, pod *v1.Pod) bool {
	for i := range terms {
		if terms[i].Matches(pod, nil) {
			return true
		}
	}
	return false
}
