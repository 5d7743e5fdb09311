package explain

import (
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
)

// Judging a running pod means filtering its own node with the pod taken out
// of the cluster. Taking it out of the scheduler's cache and updating the
// snapshot made the placement plugins' PreFilter count over every node for
// every pod: 2.4 ms a pod on 5,000 nodes, six minutes for 150,000 pods.
// (Pods are judged node by node: the view then lists the same nodes for all
// of a node's pods, and a plugin that keeps counts by node list and
// generation recounts only the copy.)
//
// A Filter on one node reads only the nodes that can share a topology domain
// with it. Inter-pod terms compare nodes by the value of the term's topology
// key, so node N's verdict depends on N itself and on the nodes that carry
// N's value of a key some required term names: an existing pod's required
// anti-affinity term, or the pod's own required anti-affinity term. The
// other placement plugins read N alone. So drift's one-plugin profiles read
// a snapshot of their own, the driftView, holding only N (a copy, without
// the pod) and the nodes of N's domains, and the plugins run as they do in
// the scheduler, over fewer nodes.
//
// One rule is not local: a pod whose required affinity term matches no pod
// anywhere may still be placed if it matches its own term (the first pod of
// a group). For a pod with required affinity terms drift therefore judges
// over the whole snapshot, the pod taken out of the cache as before.

// driftView is the snapshot drift's one-plugin profiles read. wide passes
// the session's snapshot through; otherwise only nodes are listed.
type driftView struct {
	fwk.SharedLister
	wide  bool
	nodes []fwk.NodeInfo
	// The lists the snapshot keeps of nodes holding pods with terms, for
	// nodes.
	withAffinity, withRequiredAnti, withNonHostAnti []fwk.NodeInfo
}

func newDriftView(snapshot fwk.SharedLister) *driftView {
	return &driftView{SharedLister: snapshot}
}

// narrow makes the view list nodes only.
func (v *driftView) narrow(nodes []fwk.NodeInfo) {
	v.wide = false
	v.nodes = nodes
	// Fresh lists: a plugin may keep what it was given until its next cycle.
	v.withAffinity, v.withRequiredAnti, v.withNonHostAnti = nil, nil, nil
	for _, n := range nodes {
		if len(n.GetPodsWithAffinity()) > 0 {
			v.withAffinity = append(v.withAffinity, n)
		}
		if len(n.GetPodsWithRequiredAntiAffinity()) > 0 {
			v.withRequiredAnti = append(v.withRequiredAnti, n)
		}
		if len(n.GetPodsWithRequiredNonHostScopedAntiAffinity()) > 0 {
			v.withNonHostAnti = append(v.withNonHostAnti, n)
		}
	}
}

// widen makes the view the session's snapshot.
func (v *driftView) widen() {
	v.wide = true
	v.nodes = nil
}

func (v *driftView) NodeInfos() fwk.NodeInfoLister {
	if v.wide {
		return v.SharedLister.NodeInfos()
	}
	return v
}

func (v *driftView) List() ([]fwk.NodeInfo, error) { return v.nodes, nil }

func (v *driftView) HavePodsWithAffinityList() ([]fwk.NodeInfo, error) {
	return v.withAffinity, nil
}

func (v *driftView) HavePodsWithRequiredAntiAffinityList() ([]fwk.NodeInfo, error) {
	return v.withRequiredAnti, nil
}

func (v *driftView) HavePodsWithRequiredNonHostScopedAntiAffinityList() ([]fwk.NodeInfo, error) {
	return v.withNonHostAnti, nil
}

func (v *driftView) Get(name string) (fwk.NodeInfo, error) {
	for _, n := range v.nodes {
		if n.Node() != nil && n.Node().Name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("nodeinfo not found for node name %q", name)
}

// domains indexes the snapshot's node names by their value of each topology
// key that an existing pod's required anti-affinity term names.
type domains struct {
	byValue map[string]map[string][]string
}

func newDomains(snapshot fwk.SharedLister) (*domains, error) {
	withAnti, err := snapshot.NodeInfos().HavePodsWithRequiredAntiAffinityList()
	if err != nil {
		return nil, err
	}
	d := &domains{byValue: map[string]map[string][]string{}}
	for _, n := range withAnti {
		for _, p := range n.GetPodsWithRequiredAntiAffinity() {
			for _, t := range p.GetRequiredAntiAffinityTerms() {
				d.byValue[t.TopologyKey] = map[string][]string{}
			}
		}
	}
	if len(d.byValue) == 0 {
		return d, nil
	}
	all, err := snapshot.NodeInfos().List()
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		for key, values := range d.byValue {
			if v, ok := n.Node().Labels[key]; ok {
				values[v] = append(values[v], n.Node().Name)
			}
		}
	}
	return d, nil
}

// around names the nodes besides node whose pods can bear on inter-pod
// rules on node: those sharing node's value of a key in the index or of one
// of own, the keys of the judged pods' own required anti-affinity terms
// (the index holds them too when the pods are in the snapshot). all lists
// every node, for a key of own that the index lacks.
func (d *domains) around(own []string, node *v1.Node, all func() ([]fwk.NodeInfo, error)) (sets.Set[string], error) {
	names := sets.New[string]()
	for key, values := range d.byValue {
		if v, ok := node.Labels[key]; ok {
			names.Insert(values[v]...)
		}
	}
	for _, key := range own {
		if _, indexed := d.byValue[key]; indexed {
			continue
		}
		v, ok := node.Labels[key]
		if !ok {
			continue
		}
		nodes, err := all()
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if w, has := n.Node().Labels[key]; has && w == v {
				names.Insert(n.Node().Name)
			}
		}
	}
	names.Delete(node.Name)
	return names, nil
}

// ownAntiAffinityKeys are the topology keys of the pod's required
// anti-affinity terms.
func ownAntiAffinityKeys(pod *v1.Pod) []string {
	a := pod.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil {
		return nil
	}
	var keys []string
	for _, t := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		if !slices.Contains(keys, t.TopologyKey) {
			keys = append(keys, t.TopologyKey)
		}
	}
	return keys
}

// hasRequiredAffinity: the pod has required inter-pod affinity terms, whose
// first-pod rule looks at every node.
func hasRequiredAffinity(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && a.PodAffinity != nil && len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
}
