package explain

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// Simulate places every replica of every workload, in order, one at a time,
// each over the cluster as the ones before left it: later replicas meet the
// earlier ones' anti-affinity, spreading and resource requests. For the
// first replica of a workload that fits nowhere it keeps the explanation
// explain would print. A replica that fits nowhere preempts as the
// scheduler's would (unless the session was opened with NoPreemption): the
// victims leave the snapshot, and the replica takes their place.
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
	// The profile is named even when there are no replicas to place.
	f, err := s.framework(w.Pod(0))
	if err != nil {
		return nil, err
	}
	r.Profile = f.ProfileName()
	placed := newPlacedCounts(s)
	for i := range w.Replicas {
		pod := w.Pod(i)
		if err := prio.Admit(pod); err != nil {
			return nil, err
		}
		node, preempted, err := s.placeReplica(ctx, pod)
		if preempted != nil {
			r.Preemptions = append(r.Preemptions, *preempted)
		}
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
		placed.add(node)
	}
	r.ByNode, r.ByZone = placed.counts()
	if n := simulatedVictims(r.Preemptions); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of the preempted pods were placed earlier in this simulation; the earlier workloads' counts still include them", n))
	}
	return r, nil
}
