package explain

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// Simulate places every replica of every workload, in order, one at a time,
// each over the cluster as the ones before left it: later replicas meet the
// earlier ones' anti-affinity, spreading and resource requests. For the
// first replica of a workload that fits nowhere it keeps the explanation
// explain would print, and whether preemption would have somewhere to look.
func (s *Session) Simulate(ctx context.Context, workloads []*workload.Workload, prio *Priorities) (*Simulation, error) {
	sim := &Simulation{TypeMeta: typeMeta("Simulation"), Nodes: s.Nodes(), Workloads: []WorkloadPlacement{}}
	for _, w := range workloads {
		r, err := s.simulate(ctx, w, prio)
		if err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", w.Kind, w.Namespace, w.Name, err)
		}
		sim.Workloads = append(sim.Workloads, *r)
	}
	return sim, nil
}

func (s *Session) simulate(ctx context.Context, w *workload.Workload, prio *Priorities) (*WorkloadPlacement, error) {
	r := &WorkloadPlacement{Workload: w.String(), Namespace: w.Namespace, Replicas: w.Replicas}
	if !s.NamespaceExists(w.Namespace) {
		r.Notes = append(r.Notes, fmt.Sprintf("namespace %s does not exist; simulated as if it did", w.Namespace))
	}
	if err := s.addController(w); err != nil {
		return nil, err
	}
	tally := newTally(s)
	for i := range w.Replicas {
		pod := w.Pod(i)
		if err := prio.Admit(pod); err != nil {
			return nil, err
		}
		if r.Profile == "" {
			f, err := s.framework(pod)
			if err != nil {
				return nil, err
			}
			r.Profile = f.ProfileName()
		}
		node, err := s.Place(ctx, pod)
		if msg, ok := Unschedulable(err); ok {
			r.Pending++
			if r.FirstPending == nil {
				if r.FirstPending, err = s.pending(ctx, pod, msg); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Placed++
		tally.add(node)
	}
	r.ByNode, r.ByZone = tally.counts()
	return r, nil
}

// Capacity places copies of pod until one fits nowhere or max have been
// placed, and says where they went and why the next would not fit.
func (s *Session) Capacity(ctx context.Context, w *workload.Workload, max int, prio *Priorities) (*CapacityReport, error) {
	template := w.Pod(0)
	r := &CapacityReport{TypeMeta: typeMeta("Capacity"), Pod: template.Namespace + "/" + template.Name, Nodes: s.Nodes(), Max: max}
	if !s.NamespaceExists(w.Namespace) {
		r.Notes = append(r.Notes, fmt.Sprintf("namespace %s does not exist; simulated as if it did", w.Namespace))
	}
	f, err := s.framework(template)
	if err != nil {
		return nil, err
	}
	r.Profile = f.ProfileName()
	if err := s.addController(w); err != nil {
		return nil, err
	}
	tally := newTally(s)
	for i := 0; ; i++ {
		pod := w.Pod(i)
		if err := prio.Admit(pod); err != nil {
			return nil, err
		}
		if i == max {
			r.Limited = true
			break
		}
		node, err := s.Place(ctx, pod)
		if msg, ok := Unschedulable(err); ok {
			if r.Next, err = s.pending(ctx, pod, msg); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, err
		}
		r.Fits++
		tally.add(node)
	}
	r.ByNode, r.ByZone = tally.counts()
	return r, nil
}

// pending explains a replica that fits nowhere; msg is the scheduler's
// message.
func (s *Session) pending(ctx context.Context, pod *v1.Pod, msg string) (*PendingReplica, error) {
	e, err := s.Explain(ctx, pod)
	if err != nil {
		return nil, err
	}
	p := &PendingReplica{Pod: pod.Name, Unschedulable: msg, Rejected: e.Rejected}
	if p.PreemptionCandidates, err = s.PreemptionCandidates(ctx, pod); err != nil {
		return nil, err
	}
	return p, nil
}

// addController makes the listers the scheduler's default spreading reads
// see the workload's controller, as they would once it is created: pods of
// a ReplicaSet, StatefulSet or ReplicationController are spread by hostname
// and zone when the profile's PodTopologySpread uses its system defaults.
func (s *Session) addController(w *workload.Workload) error {
	apps := s.c.factory.Apps().V1()
	var err error
	switch obj := w.Object.(type) {
	case *appsv1.Deployment:
		rs := &appsv1.ReplicaSet{ObjectMeta: obj.ObjectMeta, Spec: appsv1.ReplicaSetSpec{
			Replicas: obj.Spec.Replicas, Selector: obj.Spec.Selector, Template: obj.Spec.Template,
		}}
		if pod := w.Pod(0); pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "" {
			rs.Name = obj.Name + "-" + pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
		err = apps.ReplicaSets().Informer().GetIndexer().Add(rs)
	case *appsv1.ReplicaSet:
		err = apps.ReplicaSets().Informer().GetIndexer().Add(obj)
	case *appsv1.StatefulSet:
		err = apps.StatefulSets().Informer().GetIndexer().Add(obj)
	case *v1.ReplicationController:
		err = s.c.factory.Core().V1().ReplicationControllers().Informer().GetIndexer().Add(obj)
	}
	return err
}

// tally counts placed pods per node and per zone.
type tally struct {
	s      *Session
	byNode map[string]int
}

func newTally(s *Session) *tally { return &tally{s: s, byNode: map[string]int{}} }

func (t *tally) add(node string) { t.byNode[node]++ }

func (t *tally) counts() (nodes, zones []Count) {
	byZone := map[string]int{}
	for n, c := range t.byNode {
		nodes = append(nodes, Count{Name: n, Pods: c})
		byZone[t.s.Zone(n)] += c
	}
	for z, c := range byZone {
		zones = append(zones, Count{Name: z, Pods: c})
	}
	return sortCounts(nodes), sortCounts(zones)
}

// sortCounts orders by count, most first, then by name; never nil, so that
// JSON shows [] rather than null.
func sortCounts(c []Count) []Count {
	if c == nil {
		return []Count{}
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].Pods != c[j].Pods {
			return c[i].Pods > c[j].Pods
		}
		return c[i].Name < c[j].Name
	})
	return c
}
