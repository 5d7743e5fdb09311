package counting

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
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
// The selector-keys query carries what the answers need (see
// selectorkeys.go); ReadSelectorKeys hands it to ClassCache.get.

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

// NamespaceClasses is what one kind of existing terms reads of namespaces:
// the sets of namespaces they name and the label keys their
// namespaceSelectors name. It never changes once made.
type NamespaceClasses struct {
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
func (c *NamespaceClasses) writeClass(k *keyBuilder, ns string, nsLabels labels.Set) {
	if c == nil {
		c = &NamespaceClasses{}
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

// ClassCache keeps the last NamespaceClasses of each kind, so that a cycle
// whose selector-keys view did not change decodes nothing and keeps the
// version (and so the views) of the cycle before.
type ClassCache struct {
	mu   sync.Mutex
	last map[string]*NamespaceClasses
}

// get returns the classes of kind for sets and labelKeys (both sorted).
func (cc *ClassCache) get(kind string, setKeys, labelKeys []string) *NamespaceClasses {
	if len(setKeys) == 0 && len(labelKeys) == 0 {
		return nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c := cc.last[kind]; c != nil && slices.Equal(c.sets, setKeys) && slices.Equal(c.labelKeys, labelKeys) {
		return c
	}
	c := &NamespaceClasses{sets: setKeys, labelKeys: labelKeys, version: classVersions.Add(1)}
	for _, s := range setKeys {
		c.names = append(c.names, decodeNames(s))
	}
	if cc.last == nil {
		cc.last = map[string]*NamespaceClasses{}
	}
	cc.last[kind] = c
	return c
}
