// Package nodematch evaluates node selector terms (node affinity) against
// nodes without allocating. It decides exactly as
// k8s.io/component-helpers/scheduling/corev1/nodeaffinity, which it uses to
// validate terms, but compiles each term once so that matching a node — done
// for every node in every cycle — builds no field set per node.
package nodematch

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Term is one compiled node selector term: all of its requirements must hold.
type Term struct {
	// invalid terms never match, as the API's own reading has it.
	invalid bool
	// labels is nil when the term has no matchExpressions.
	labels labels.Selector
	fields []fieldRequirement
}

// fieldRequirement is a matchFields requirement: In or NotIn one value.
type fieldRequirement struct {
	key, value string
	in         bool
}

var operators = map[v1.NodeSelectorOperator]selection.Operator{
	v1.NodeSelectorOpIn:           selection.In,
	v1.NodeSelectorOpNotIn:        selection.NotIn,
	v1.NodeSelectorOpExists:       selection.Exists,
	v1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	v1.NodeSelectorOpGt:           selection.GreaterThan,
	v1.NodeSelectorOpLt:           selection.LessThan,
}

// Compile compiles term. Whether it is valid is the library's verdict.
func Compile(term *v1.NodeSelectorTerm) Term {
	if _, err := nodeaffinity.NewNodeSelector(&v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{*term}}); err != nil {
		return Term{invalid: true}
	}
	var t Term
	if len(term.MatchExpressions) > 0 {
		sel := labels.NewSelector()
		for _, e := range term.MatchExpressions {
			r, err := labels.NewRequirement(e.Key, operators[e.Operator], e.Values)
			if err != nil {
				return Term{invalid: true}
			}
			sel = sel.Add(*r)
		}
		t.labels = sel
	}
	for _, f := range term.MatchFields {
		if len(f.Values) != 1 {
			return Term{invalid: true}
		}
		t.fields = append(t.fields, fieldRequirement{key: f.Key, value: f.Values[0], in: f.Operator == v1.NodeSelectorOpIn})
	}
	return t
}

// Matches reports whether node satisfies every requirement of the term.
func (t *Term) Matches(node *v1.Node) bool {
	if t.invalid {
		return false
	}
	if t.labels != nil && !t.labels.Matches(labels.Set(node.Labels)) {
		return false
	}
	// A node without a name has no fields, and field requirements are then
	// not applied, as in the library.
	if node.Name == "" {
		return true
	}
	for _, f := range t.fields {
		if (fieldValue(node, f.key) == f.value) != f.in {
			return false
		}
	}
	return true
}

// fieldValue is the value of a node field; metadata.name is the only field a
// node selector can read, any other key reads as empty.
func fieldValue(node *v1.Node, key string) string {
	if key == metav1.ObjectNameField {
		return node.Name
	}
	return ""
}

func empty(term *v1.NodeSelectorTerm) bool {
	return len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0
}

// Selector is a compiled NodeSelector: its terms are ORed. Empty terms select
// nothing and are dropped.
type Selector []Term

// NewSelector compiles ns; invalid terms are kept and never match.
func NewSelector(ns *v1.NodeSelector) Selector {
	s := make(Selector, 0, len(ns.NodeSelectorTerms))
	for i := range ns.NodeSelectorTerms {
		if !empty(&ns.NodeSelectorTerms[i]) {
			s = append(s, Compile(&ns.NodeSelectorTerms[i]))
		}
	}
	return s
}

// Matches reports whether some term matches node.
func (s Selector) Matches(node *v1.Node) bool {
	for i := range s {
		if s[i].Matches(node) {
			return true
		}
	}
	return false
}

// Preferred is a compiled list of preferred scheduling terms.
type Preferred []weighted

type weighted struct {
	Term
	weight int64
}

// NewPreferred compiles terms. Like the library, it refuses the whole list if
// any term is invalid, and drops terms of weight 0 or without requirements.
func NewPreferred(terms []v1.PreferredSchedulingTerm) (Preferred, error) {
	if _, err := nodeaffinity.NewPreferredSchedulingTerms(terms); err != nil {
		return nil, err
	}
	p := make(Preferred, 0, len(terms))
	for i := range terms {
		if terms[i].Weight == 0 || empty(&terms[i].Preference) {
			continue
		}
		p = append(p, weighted{Term: Compile(&terms[i].Preference), weight: int64(terms[i].Weight)})
	}
	return p, nil
}

// Score sums the weights of the terms node matches.
func (p Preferred) Score(node *v1.Node) int64 {
	var sum int64
	for i := range p {
		if p[i].Matches(node) {
			sum += p[i].weight
		}
	}
	return sum
}
