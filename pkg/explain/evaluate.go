package explain

import (
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Evaluate runs the profile's PreFilter and Filter plugins for pod on every
// node, and PreScore, Score and NormalizeScore on the feasible ones, in one
// cycle state, the way a scheduling cycle does. Unlike the scheduler it never
// stops early: every node is filtered and every feasible node scored.
func Evaluate(ctx context.Context, f framework.Framework, nodes []fwk.NodeInfo, pod *v1.Pod) (*Explanation, error) {
	e := &Explanation{
		TypeMeta: typeMeta("Explanation"),
		Pod:      pod.Namespace + "/" + pod.Name,
		Profile:  f.ProfileName(),
		Nodes:    len(nodes),
		Rejected: []Rejection{},
		Feasible: []NodeScore{},
	}
	state := framework.NewCycleState()
	state.SetRecordPluginMetrics(false)
	statuses, feasible, diagnosis, err := filter(ctx, f, state, pod, nodes)
	if err != nil {
		return nil, err
	}
	e.Rejected = group(nodes, statuses)
	if len(feasible) == 0 {
		fitErr := &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diagnosis}
		e.Unschedulable = fitErr.Error()
		return e, nil
	}
	if e.Feasible, err = score(ctx, f, state, pod, feasible); err != nil {
		return nil, err
	}
	for _, n := range e.Feasible {
		if n.Rank == 1 {
			e.Pick = append(e.Pick, n.Node)
		}
	}
	return e, nil
}

// filter returns each node's status (nil when feasible), the feasible nodes,
// and the diagnosis the scheduler would build from the same statuses.
func filter(ctx context.Context, f framework.Framework, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) ([]*fwk.Status, []fwk.NodeInfo, framework.Diagnosis, error) {
	diagnosis := framework.Diagnosis{NodeToStatus: framework.NewDefaultNodeToStatus()}
	statuses := make([]*fwk.Status, len(nodes))
	result, s, unschedulable := f.RunPreFilterPlugins(ctx, state, pod)
	diagnosis.UnschedulablePlugins = unschedulable
	if !s.IsSuccess() {
		if !s.IsRejected() {
			return nil, nil, diagnosis, fmt.Errorf("running PreFilter: %w", s.AsError())
		}
		// As in the scheduler: every node gets PreFilter's status, and the
		// message is PreFilter's alone.
		diagnosis.NodeToStatus.SetAbsentNodesStatus(s)
		diagnosis.PreFilterMsg = s.Message()
		diagnosis.AddPluginStatus(s)
		for i := range statuses {
			statuses[i] = s
		}
		return statuses, nil, diagnosis, nil
	}
	candidate := make([]bool, len(nodes))
	for i, n := range nodes {
		candidate[i] = result.AllNodes() || result.NodeNames.Has(n.Node().Name)
		if !candidate[i] {
			statuses[i] = fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(unschedulable)))
			statuses[i].SetPlugin(strings.Join(sets.List(unschedulable), ","))
		}
	}
	if !result.AllNodes() {
		diagnosis.NodeToStatus.SetAbsentNodesStatus(fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(unschedulable))))
	}
	check := func(i int) {
		if candidate[i] {
			if s := f.RunFilterPlugins(ctx, state, pod, nodes[i]); !s.IsSuccess() {
				statuses[i] = s
			}
		}
	}
	// Drift filters one node per call, a pod at a time: no workers for that.
	if len(nodes) == 1 {
		check(0)
	} else {
		f.Parallelizer().Until(ctx, len(nodes), check, "explain")
	}
	var feasible []fwk.NodeInfo
	for i, s := range statuses {
		switch {
		case s == nil:
			feasible = append(feasible, nodes[i])
		case candidate[i]:
			if !s.IsRejected() {
				return nil, nil, diagnosis, fmt.Errorf("running Filter on node %s: %w", nodes[i].Node().Name, s.AsError())
			}
			diagnosis.NodeToStatus.Set(nodes[i].Node().Name, s)
			diagnosis.AddPluginStatus(s)
		}
	}
	return statuses, feasible, diagnosis, nil
}

// group collects rejected nodes by plugin, code and reasons.
func group(nodes []fwk.NodeInfo, statuses []*fwk.Status) []Rejection {
	byKey := map[string]*Rejection{}
	var order []*Rejection
	for i, s := range statuses {
		if s == nil {
			continue
		}
		r := rejection(s)
		key := r.Plugin + "\x00" + r.Code + "\x00" + strings.Join(r.Reasons, "\x00")
		g, ok := byKey[key]
		if !ok {
			g = &r
			byKey[key] = g
			order = append(order, g)
		}
		g.Nodes = append(g.Nodes, nodes[i].Node().Name)
	}
	groups := make([]Rejection, 0, len(order))
	for _, g := range order {
		sort.Strings(g.Nodes)
		groups = append(groups, *g)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if len(groups[i].Nodes) != len(groups[j].Nodes) {
			return len(groups[i].Nodes) > len(groups[j].Nodes)
		}
		if groups[i].Plugin != groups[j].Plugin {
			return groups[i].Plugin < groups[j].Plugin
		}
		return strings.Join(groups[i].Reasons, ",") < strings.Join(groups[j].Reasons, ",")
	})
	return groups
}

func rejection(s *fwk.Status) Rejection {
	return Rejection{Plugin: s.Plugin(), Code: s.Code().String(), Reasons: s.Reasons()}
}

// score runs the score phases and returns the feasible nodes best first.
func score(ctx context.Context, f framework.Framework, state fwk.CycleState, pod *v1.Pod, feasible []fwk.NodeInfo) ([]NodeScore, error) {
	if s := f.RunPreScorePlugins(ctx, state, pod, feasible); !s.IsSuccess() {
		return nil, fmt.Errorf("running PreScore: %w", s.AsError())
	}
	scores, s := f.RunScorePlugins(ctx, state, pod, feasible)
	if !s.IsSuccess() {
		return nil, fmt.Errorf("running Score: %w", s.AsError())
	}
	weights := map[string]int64{}
	if p := f.ListPlugins(); p != nil {
		for _, pl := range p.Score.Enabled {
			weights[pl.Name] = int64(pl.Weight)
		}
	}
	out := make([]NodeScore, len(scores))
	for i, ns := range scores {
		out[i] = NodeScore{Node: ns.Name, Total: ns.TotalScore}
		for _, ps := range ns.Scores {
			w := weights[ps.Name]
			normalized := ps.Score
			if w > 0 {
				normalized = ps.Score / w
			}
			out[i].Plugins = append(out[i].Plugins, PluginScore{Plugin: ps.Name, Score: normalized, Weight: w, Weighted: ps.Score})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Node < out[j].Node
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Total == out[i-1].Total {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out, nil
}
