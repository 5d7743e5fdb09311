package explain

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// MaxAddedNodes bounds how many nodes a question may add to the snapshot.
const MaxAddedNodes = 10000

// NodeTemplate reads the Node that added nodes copy from a manifest (YAML
// or JSON): one object, of kind Node.
func NodeTemplate(data []byte) (*v1.Node, error) {
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the node template: %w", err)
	}
	node, ok := obj.(*v1.Node)
	if !ok {
		return nil, fmt.Errorf("the node template is a %s, not a Node", gvk.Kind)
	}
	if len(node.Status.Allocatable) == 0 && len(node.Status.Capacity) == 0 {
		return nil, fmt.Errorf("the node template has no status.allocatable or status.capacity: pods would fit nowhere on it")
	}
	return node, nil
}

// Node returns a node of the session's cluster, to copy with AddNodes.
func (s *Session) Node(name string) (*v1.Node, error) {
	node, err := s.c.factory.Core().V1().Nodes().Lister().Get(name)
	if err != nil {
		return nil, &NodesNotFoundError{Names: []string{name}}
	}
	return node, nil
}

// AddNodes adds n copies of template to the snapshot, as new machines of
// the same shape would join: the same labels, taints and allocatable, their
// own name (TEMPLATE-added-1...) and hostname label, schedulable. It returns
// their names.
func (s *Session) AddNodes(ctx context.Context, template *v1.Node, n int) ([]string, error) {
	if n < 0 || n > MaxAddedNodes {
		return nil, fmt.Errorf("adding %d nodes: want 0 to %d", n, MaxAddedNodes)
	}
	logger := klog.FromContext(ctx)
	base := template.Name
	if base == "" {
		base = "node"
	}
	lister := s.c.factory.Core().V1().Nodes().Lister()
	names := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		node := template.DeepCopy()
		node.ObjectMeta = metav1.ObjectMeta{
			Name:        fmt.Sprintf("%s-added-%d", base, i),
			Labels:      map[string]string{},
			Annotations: template.Annotations,
		}
		for k, v := range template.Labels {
			node.Labels[k] = v
		}
		node.Labels[v1.LabelHostname] = node.Name
		node.UID = types.UID("added-" + node.Name)
		node.Spec.Unschedulable = false
		node.Spec.ProviderID = ""
		if _, err := lister.Get(node.Name); err == nil {
			return nil, fmt.Errorf("adding node %s: the cluster has a node of that name", node.Name)
		}
		s.c.sched.Cache.AddNode(logger, node)
		s.recordAddedNode(logger, node)
		names = append(names, node.Name)
	}
	return names, nil
}

// NodesNeeded is the smallest number of template nodes with which every
// replica of the workloads is placed.
type NodesNeeded struct {
	metav1.TypeMeta `json:",inline"`
	// Template names the node shape added.
	Template string `json:"template"`
	// Nodes counts the cluster's nodes before any is added.
	Nodes int `json:"nodes"`
	// Needed is the answer; -1 when even Max nodes leave replicas pending.
	Needed int `json:"needed"`
	Max    int `json:"max"`
	// Trials counts the simulations run to find it.
	Trials int `json:"trials"`
	// Simulation is the placement with Needed nodes added (with Max when
	// no number helps: its first pending replica says why).
	Simulation *Simulation `json:"simulation"`
}

// FindNodesNeeded searches the smallest number of template nodes, up to
// limit, with which every replica of the workloads is placed. Each trial
// adds the nodes and simulates over s, and is rolled back after (Mark,
// Rollback): the cluster is listed once. More nodes never leave more
// replicas pending for the constraints simulate models, so the search
// doubles until a number works and then bisects.
func FindNodesNeeded(ctx context.Context, s *Session, workloads []*workload.Workload, prio *Priorities, template *v1.Node, limit int) (*NodesNeeded, error) {
	if limit < 0 || limit > MaxAddedNodes {
		return nil, fmt.Errorf("at most %d nodes: want 0 to %d", limit, MaxAddedNodes)
	}
	answer := &NodesNeeded{TypeMeta: typeMeta("NodesNeeded"), Template: template.Name, Max: limit, Needed: -1, Nodes: s.Nodes()}
	trial := func(n int) (*Simulation, bool, error) {
		answer.Trials++
		s.Mark()
		defer s.Rollback()
		added, err := s.AddNodes(ctx, template, n)
		if err != nil {
			return nil, false, err
		}
		sim, err := s.Simulate(ctx, workloads, prio)
		if err != nil {
			return nil, false, err
		}
		sim.AddedNodes = added
		for _, w := range sim.Workloads {
			if w.Pending > 0 {
				return sim, false, nil
			}
		}
		return sim, true, nil
	}
	// fail is a count known to leave replicas pending, ok one known to place all.
	fail, ok := -1, -1
	var best *Simulation
	for n := 0; ; n = min(limit, max(1, 2*n)) {
		sim, placed, err := trial(n)
		if err != nil {
			return nil, err
		}
		if placed {
			ok, best = n, sim
			break
		}
		fail = n
		if n == limit {
			answer.Simulation = sim
			return answer, nil
		}
	}
	for ok-fail > 1 {
		mid := fail + (ok-fail)/2
		sim, placed, err := trial(mid)
		if err != nil {
			return nil, err
		}
		if placed {
			ok, best = mid, sim
		} else {
			fail = mid
		}
	}
	answer.Needed, answer.Simulation = ok, best
	return answer, nil
}
