package explain

import (
	"context"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

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
	placed := newPlacedCounts(s)
	for i := 0; ; i++ {
		pod := w.Pod(i)
		if err := prio.Admit(pod); err != nil {
			return nil, err
		}
		if i == max {
			r.Limited = true
			break
		}
		node, preempted, err := s.placeReplica(ctx, pod)
		if preempted != nil {
			r.Preemptions = append(r.Preemptions, *preempted)
		}
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
		placed.add(node)
	}
	r.ByNode, r.ByZone = placed.counts()
	return r, nil
}
