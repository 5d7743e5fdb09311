package decision

import (
	"cmp"
	"slices"

	fwk "k8s.io/kube-scheduler/framework"
)

// examplesPerReason bounds the node names a rejection keeps: enough to go and
// look at one, few enough that a record stays small on any cluster.
const examplesPerReason = 3

// tally counts rejected nodes by plugin and reason. A node whose status
// carries two reasons counts once under each, as the FailedScheduling
// message counts them.
type tally map[rejectionKey]*Rejection

type rejectionKey struct{ plugin, reason string }

// add counts node under each reason of s.
func (t tally) add(node string, s *fwk.Status) {
	for _, reason := range s.Reasons() {
		t.addN(s.Plugin(), reason, 1, node)
	}
}

func (t tally) addN(plugin, reason string, n int, example string) {
	k := rejectionKey{plugin, reason}
	r := t[k]
	if r == nil {
		r = &Rejection{Plugin: plugin, Reason: reason}
		t[k] = r
	}
	r.Nodes += n
	if example != "" && len(r.Examples) < examplesPerReason {
		r.Examples = append(r.Examples, example)
	}
}

// list returns the rejections, largest count first, then by plugin and reason.
func (t tally) list() []Rejection {
	out := make([]Rejection, 0, len(t))
	for _, r := range t {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rejection) int {
		if c := cmp.Compare(b.Nodes, a.Nodes); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Plugin, b.Plugin); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	return out
}

// topScores picks the n best of scores by total, the chosen node first (it
// is among the best: the scheduler picks one of the highest totals at
// random), and says by how much the chosen node led the others and how many
// it tied with.
func topScores(scores []fwk.NodePluginScores, chosen string, n int) (top []NodeScore, margin *int64, tied int) {
	var chosenScore *fwk.NodePluginScores
	for i := range scores {
		if scores[i].Name == chosen {
			chosenScore = &scores[i]
			break
		}
	}
	if chosenScore == nil || n <= 0 {
		return nil, nil, 0
	}
	// The best others, kept sorted in a slice of at most n-1: n is small.
	others := make([]*fwk.NodePluginScores, 0, n)
	var best *int64
	for i := range scores {
		s := &scores[i]
		if s == chosenScore {
			continue
		}
		if best == nil || s.TotalScore > *best {
			best = &s.TotalScore
		}
		if s.TotalScore == chosenScore.TotalScore {
			tied++
		}
		if len(others) < n-1 || (len(others) > 0 && s.TotalScore > others[len(others)-1].TotalScore) {
			at, _ := slices.BinarySearchFunc(others, s.TotalScore, func(o *fwk.NodePluginScores, total int64) int {
				// Descending by total; equal totals keep their order of arrival.
				if o.TotalScore >= total {
					return -1
				}
				return 1
			})
			others = slices.Insert(others, at, s)
			if len(others) > n-1 {
				others = others[:n-1]
			}
		}
	}
	top = append(top, nodeScore(chosenScore))
	for _, o := range others {
		top = append(top, nodeScore(o))
	}
	if best != nil {
		m := chosenScore.TotalScore - *best
		margin = &m
	}
	return top, margin, tied
}

func nodeScore(s *fwk.NodePluginScores) NodeScore {
	ns := NodeScore{Node: s.Name, Total: s.TotalScore}
	for _, p := range s.Scores {
		ns.Plugins = append(ns.Plugins, PluginScore{Plugin: p.Name, Score: p.Score})
	}
	return ns
}
