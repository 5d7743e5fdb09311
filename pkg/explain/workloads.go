package explain

import (
	"context"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// pending explains a replica that fits nowhere; msg is the scheduler's
// message.
func (s *Session) pending(ctx context.Context, pod *v1.Pod, msg string) (*PendingReplica, error) {
	e, err := s.Explain(ctx, pod)
	if err != nil {
		return nil, err
	}
	p := &PendingReplica{Pod: pod.Name, Unschedulable: msg, Rejected: e.Rejected}
	if !s.noPreemption {
		// Preemption ran and its answer is in msg.
		return p, nil
	}
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

// placedCounts counts placed pods per node and per zone.
type placedCounts struct {
	s      *Session
	byNode map[string]int
}

func newPlacedCounts(s *Session) *placedCounts { return &placedCounts{s: s, byNode: map[string]int{}} }

func (t *placedCounts) add(node string) { t.byNode[node]++ }

func (t *placedCounts) counts() (nodes, zones []Count) {
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
