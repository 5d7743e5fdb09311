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
// match, so the shares are the same. The same holds the other way for the
// incoming pod's own terms (Affinity, AntiAffinity): a term can match a pod
// on a node only if some pod there carries one of its demanded pairs, and
// counting a new pod's terms otherwise walked every pod in the cluster.

// labelPair is one label a selector requires.
type labelPair struct{ key, value string }

// demands are what the required anti-affinity terms on one node ask of an
// incoming pod.
type demands struct {
	// open: some term demands no label pair, so any pod may match it.
	open bool
	// pairs holds each term's demanded pairs: a pod with none of them
	// matches no term.
	pairs map[labelPair]struct{}
}

// nodeCache keeps one value per node, computed from the NodeInfo and kept
// while its generation (which the scheduler cache never reuses) stays, for
// the counting workers to share.
type nodeCache[T any] struct {
	nodes   sync.Map // node name → *cached[T]
	size    atomic.Int64
	compute func(fwk.NodeInfo) T
}

type cached[T any] struct {
	generation int64
	value      T
}

func (c *nodeCache[T]) of(ni fwk.NodeInfo, name string) T {
	if v, ok := c.nodes.Load(name); ok {
		if e := v.(*cached[T]); e.generation == ni.GetGeneration() {
			return e.value
		}
	}
	e := &cached[T]{generation: ni.GetGeneration(), value: c.compute(ni)}
	if _, loaded := c.nodes.Swap(name, e); !loaded {
		c.size.Add(1)
	}
	return e.value
}

// prune forgets every node when the cache holds far more than the cluster
// has, so nodes that left do not accumulate.
func (c *nodeCache[T]) prune(nodes int) {
	if c.size.Load() > 2*int64(nodes)+64 {
		c.nodes.Clear()
		c.size.Store(0)
	}
}

// Skips lets the counting rules pass over nodes where no pod can count
// (demands.go): per node, what its pods' required anti-affinity terms
// demand of an incoming pod, and the label pairs its pods carry.
type Skips struct {
	demands  nodeCache[demands]
	supplies nodeCache[map[labelPair]struct{}]
}

func newSkips() *Skips {
	s := &Skips{}
	s.demands.compute = nodeDemands
	s.supplies.compute = nodeSupplies
	return s
}

func (s *Skips) prune(nodes int) {
	s.demands.prune(nodes)
	s.supplies.prune(nodes)
}

// antiMayMatch says whether a required anti-affinity term of a pod on ni
// can match a pod with these labels; false means none can.
func (s *Skips) antiMayMatch(ni fwk.NodeInfo, podLabels map[string]string) bool {
	node := ni.Node()
	if node == nil {
		return true
	}
	dm := s.demands.of(ni, node.Name)
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

// mayMatch says whether a pod on ni can match term, whose demanded pairs
// are want (open: it demands none).
func (s *Skips) mayMatch(ni fwk.NodeInfo, want termDemand) bool {
	if want.open {
		return true
	}
	node := ni.Node()
	if node == nil {
		return true
	}
	carried := s.supplies.of(ni, node.Name)
	for _, p := range want.pairs {
		if _, ok := carried[p]; ok {
			return true
		}
	}
	return false
}

// termDemand is what one term demands of the pods it matches.
type termDemand struct {
	open  bool
	pairs []labelPair
}

func termDemands(terms []fwk.AffinityTerm) []termDemand {
	out := make([]termDemand, len(terms))
	for i, t := range terms {
		pairs := map[labelPair]struct{}{}
		if !addDemand(pairs, t.Selector) {
			out[i].open = true
			continue
		}
		for p := range pairs {
			out[i].pairs = append(out[i].pairs, p)
		}
	}
	return out
}

func nodeDemands(ni fwk.NodeInfo) demands {
	dm := demands{pairs: map[labelPair]struct{}{}}
	for _, p := range ni.GetPodsWithRequiredAntiAffinity() {
		for _, t := range p.GetRequiredAntiAffinityTerms() {
			if !addDemand(dm.pairs, t.Selector) {
				return demands{open: true}
			}
		}
	}
	return dm
}

// nodeSupplies is every label pair a pod on the node carries.
func nodeSupplies(ni fwk.NodeInfo) map[labelPair]struct{} {
	pairs := map[labelPair]struct{}{}
	for _, p := range ni.GetPods() {
		for k, v := range p.GetPod().Labels {
			pairs[labelPair{k, v}] = struct{}{}
		}
	}
	return pairs
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
