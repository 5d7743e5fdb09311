package explain

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// Explain builds the scheduler the configuration describes (our plugins and
// the upstream ones of the profile), lists the cluster into its cache, takes
// one snapshot and evaluates pod on it. A bound pod is taken out of the
// snapshot and evaluated as if pending, so its own node ranks fairly.
func Explain(ctx context.Context, o Options, pod *v1.Pod) (*Explanation, error) {
	s, err := Open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Explain(ctx, pod)
}

// Explain evaluates pod over the session's cluster as it stands now. A bound
// pod is taken out for the evaluation, so that its own node ranks fairly,
// and put back after.
func (s *Session) Explain(ctx context.Context, pod *v1.Pod) (*Explanation, error) {
	f, err := s.framework(pod)
	if err != nil {
		return nil, err
	}
	ctx = quiet(ctx)
	logger := klog.FromContext(ctx)
	cache := s.c.sched.Cache
	evaluated := pod.DeepCopy()
	bound := pod.Spec.NodeName
	if bound != "" && pod.UID != "" {
		// The cache may not hold it (a terminal pod, say); then there is
		// nothing to take out or put back.
		if cache.RemovePod(logger, pod) == nil {
			defer func() { _ = cache.AddPod(logger, pod) }()
		}
		evaluated.Spec.NodeName = ""
	} else {
		bound = ""
	}
	if err := cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return nil, err
	}
	nodes, err := s.c.snapshot.NodeInfos().List()
	if err != nil {
		return nil, err
	}
	e, err := Evaluate(ctx, f, nodes, evaluated)
	if err != nil {
		return nil, err
	}
	if bound != "" {
		e.BoundNode = bound
		e.Bound = rankOf(e, bound)
	}
	return e, nil
}

func rankOf(e *Explanation, node string) *BoundRank {
	r := &BoundRank{Node: node, Feasible: len(e.Feasible)}
	for _, n := range e.Feasible {
		if n.Node == node {
			r.Rank = n.Rank
			return r
		}
	}
	for _, g := range e.Rejected {
		for _, n := range g.Nodes {
			if n == node {
				rej := g
				rej.Nodes = []string{node}
				r.Rejection = &rej
				return r
			}
		}
	}
	return r
}
