package podaffinity

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

// An existing pod's term sees the incoming pod's namespace only through two
// questions: is it in the term's namespaces, and do its labels match the
// term's namespaceSelector. Namespaces that every term in the snapshot
// answers alike give equal counts, so the identity queries (existing-anti,
// score) key on the answers rather than on the name: the first pods of a
// workload in a namespace no term names, or in one that the terms name
// together with another, reuse the views the cluster already keeps instead
// of counting every node afresh.
//
// The selector-keys view carries what the answers need: each term's
// namespaces as one domain key (namespacesMark) and each label key of a
// namespaceSelector (namespaceLabelMark), marked for required anti-affinity
// terms as their label keys are.

const (
	// namespacesMark prefixes the selector-keys domain of a term's
	// namespaces; namespaceLabelMark that of a namespaceSelector's label key.
	// NUL cannot start a label key, so neither is read as one.
	namespacesMark     = "\x00namespaces:"
	namespaceLabelMark = "\x00namespace-label:"
)

// namespaceShares appends what term t reads of the incoming pod's namespace,
// with value as the selector-keys shares of its label keys.
func namespaceShares(out []share, t *fwk.AffinityTerm, value string) []share {
	if t.Namespaces.Len() > 0 {
		out = append(out, share{domain{key: namespacesMark + encodeNames(t.Namespaces), value: value}, 1})
	}
	// A nil namespaceSelector parses to one that is not selectable and
	// matches nothing: it reads no label.
	if reqs, selectable := t.NamespaceSelector.Requirements(); selectable {
		for _, r := range reqs {
			out = append(out, share{domain{key: namespaceLabelMark + r.Key(), value: value}, 1})
		}
	}
	return out
}

// encodeNames writes a set of names sorted, each quoted, so that decodeNames
// gives the set back whatever the names hold.
func encodeNames(names sets.Set[string]) string {
	var b strings.Builder
	for i, n := range sortedSet(names) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}

func decodeNames(s string) sets.Set[string] {
	out := sets.New[string]()
	for s != "" {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			// Not written by encodeNames; cannot happen.
			break
		}
		n, _ := strconv.Unquote(q)
		out.Insert(n)
		s = strings.TrimPrefix(s[len(q):], ",")
	}
	return out
}

// namespaceClasses is what one kind of existing terms reads of namespaces:
// the sets of namespaces they name and the label keys their
// namespaceSelectors name. It never changes once made.
type namespaceClasses struct {
	// sets are the encoded sets as the selector-keys view has them, sorted;
	// names the same, decoded.
	sets  []string
	names []sets.Set[string]
	// labelKeys are the namespace label keys, sorted.
	labelKeys []string
	// version stands for the content in index keys: equal versions mean
	// equal content. Empty content is version 0.
	version uint64
}

// classVersions draws the versions of non-empty contents.
var classVersions atomic.Uint64

// writeClass writes to k what the terms can tell of namespace ns with
// labels nsLabels: the version, which of the sets hold it, and its labels
// under the keys. Namespaces with equal classes (under one version) are alike
// to every term. No classes (nil) are written as empty content: every
// namespace is then alike.
func (c *namespaceClasses) writeClass(k *keyBuilder, ns string, nsLabels labels.Set) {
	if c == nil {
		c = &namespaceClasses{}
	}
	k.uint(c.version)
	for i, names := range c.names {
		if names.Has(ns) {
			k.uint(uint64(i) + 1)
		}
	}
	// 0 ends the list of sets: each set was written as its position plus one.
	k.uint(0)
	k.labelsUnder(nsLabels, c.labelKeys)
}

// classCache keeps the last namespaceClasses of each kind, so that a cycle
// whose selector-keys view did not change decodes nothing and keeps the
// version (and so the views) of the cycle before.
type classCache struct {
	mu   sync.Mutex
	last map[string]*namespaceClasses
}

// get returns the classes of kind for sets and labelKeys (both sorted).
func (cc *classCache) get(kind string, setKeys, labelKeys []string) *namespaceClasses {
	if len(setKeys) == 0 && len(labelKeys) == 0 {
		return nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c := cc.last[kind]; c != nil && slices.Equal(c.sets, setKeys) && slices.Equal(c.labelKeys, labelKeys) {
		return c
	}
	c := &namespaceClasses{sets: setKeys, labelKeys: labelKeys, version: classVersions.Add(1)}
	for _, s := range setKeys {
		c.names = append(c.names, decodeNames(s))
	}
	if cc.last == nil {
		cc.last = map[string]*namespaceClasses{}
	}
	cc.last[kind] = c
	return c
}
