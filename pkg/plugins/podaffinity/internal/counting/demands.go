package counting

import (
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	fwk "k8s.io/kube-scheduler/framework"
)

// An existing pod's required anti-affinity term can match an incoming pod
// only if the pod carries one of the label pairs the term's selector
// demands (the values of its first Equals or In requirement). When every
// term on a node demands pairs the incoming pod lacks, the node adds nothing
// to the pod's ExistingAntiAffinity count, and skipping it spares matching
// each term of each pod there. That matching was the whole cost of a count
// the index could not reuse: on a cluster of many apps, each with hostname
// anti-affinity on its own label, every app's first pod (and `kubectl
// placement drift`, which judges app after app) met every term of every
// other app. The skip is exact: it drops only nodes whose terms cannot
// match, so the shares are the same.

// labelPair is one label a selector requires.
type labelPair struct{ key, value string }

// demands are what the required anti-affinity terms on one node, at one
// generation, ask of an incoming pod.
type demands struct {
	generation int64
	// open: some term demands no label pair, so any pod may match it.
	open bool
	// pairs holds each term's demanded pairs: a pod with none of them
	// matches no term.
	pairs map[labelPair]struct{}
}

// Demands caches each node's demands by NodeInfo generation (which the
// scheduler cache never reuses), for the counting workers to share.
type Demands struct {
	nodes sync.Map // node name → *demands
	size  atomic.Int64
}

// mayMatch says whether a required anti-affinity term of a pod on ni can
// match a pod with these labels; false means none can.
func (d *Demands) mayMatch(ni fwk.NodeInfo, podLabels map[string]string) bool {
	dm := d.of(ni)
	if dm.open {
		return true
	}
	for k, v := range podLabels {
		if _, ok := dm.pairs[labelPair{k, v}]; ok {
			return true
		}
	}
	return false
}

func (d *Demands) of(ni fwk.NodeInfo) *demands {
	node := ni.Node()
	if node == nil {
		return &demands{open: true}
	}
	if v, ok := d.nodes.Load(node.Name); ok {
		if dm := v.(*demands); dm.generation == ni.GetGeneration() {
			return dm
		}
	}
	dm := nodeDemands(ni)
	if _, loaded := d.nodes.Swap(node.Name, dm); !loaded {
		d.size.Add(1)
	}
	return dm
}

// prune forgets every node when the cache holds far more than the cluster
// has, so nodes that left do not accumulate.
func (d *Demands) prune(nodes int) {
	if d.size.Load() > 2*int64(nodes)+64 {
		d.nodes.Clear()
		d.size.Store(0)
	}
}

func nodeDemands(ni fwk.NodeInfo) *demands {
	dm := &demands{generation: ni.GetGeneration(), pairs: map[labelPair]struct{}{}}
	for _, p := range ni.GetPodsWithRequiredAntiAffinity() {
		for _, t := range p.GetRequiredAntiAffinityTerms() {
			if !addDemand(dm.pairs, t.Selector) {
				return &demands{generation: dm.generation, open: true}
			}
		}
	}
	return dm
}

// addDemand adds the pairs one of which a label selector requires, and
// says whether it requires any.
func addDemand(pairs map[labelPair]struct{}, sel labels.Selector) bool {
	if sel == nil {
		return false
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return false
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			for v := range r.Values() {
				pairs[labelPair{r.Key(), v}] = struct{}{}
			}
			return true
		}
	}
	return false
}
