package counting

import v1 "k8s.io/api/core/v1"

// The package's vocabulary: every count the plugin keeps is a number per
// topology domain, and a query's count is the sum of its nodes' shares.

// Domain is one topology domain: a topology key and a node's value for it.
type Domain struct{ Key, Value string }

// domainCounts counts matching pods per topology domain. Zero entries are
// deleted so that an empty map means "no match anywhere".
type domainCounts map[Domain]int64

func (m domainCounts) clone() domainCounts {
	c := make(domainCounts, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// share is one node's contribution to a query: n added to domain d.
type share struct {
	d Domain
	n int64
}

// appendShare adds n in node's domain for key; a node without the key (or a
// NodeInfo without its Node yet) is in no domain.
func appendShare(out []share, node *v1.Node, key string, n int64) []share {
	if node == nil {
		return out
	}
	if value, ok := node.Labels[key]; ok {
		out = append(out, share{Domain{key, value}, n})
	}
	return out
}
