package kubectlplacement

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// now is the clock ages are measured with; tests fix it.
var now = time.Now

// printDecision writes a record as a few labelled lines, then how today's
// evaluation differs from it (since may be nil).
func printDecision(w io.Writer, d *decision.Decision, since *explain.SinceDecision, o PrintOptions) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	at := d.Time.Time
	fmt.Fprintf(tw, "Decided:\t%s (%s ago), attempt %d, profile %s\n", at.UTC().Format("2006-01-02 15:04:05 MST"), age(at), d.Attempts, d.Profile)
	fmt.Fprintf(tw, "Outcome:\t%s\n", outcome(d))
	if len(d.Rejections) > 0 {
		fmt.Fprintf(tw, "Rejected:\t%s\n", rejections(d.Rejections, o))
	}
	if len(d.Scores) > 0 {
		var top []string
		for _, s := range d.Scores {
			top = append(top, fmt.Sprintf("%s %d", s.Node, s.Total))
		}
		fmt.Fprintf(tw, "Top scores:\t%s\n", strings.Join(top, ", "))
	}
	if d.Message != "" && d.Outcome != decision.Bound {
		fmt.Fprintf(tw, "Message:\t%s\n", d.Message)
	}
	if since != nil {
		fmt.Fprintf(tw, "Since then:\t%s\n", sinceThen(since))
	}
	return tw.Flush()
}

// outcome says what the cycle decided, with the counts behind it.
func outcome(d *decision.Decision) string {
	n := d.Nodes
	counts := fmt.Sprintf("%d nodes, %d evaluated", n.Total, n.Evaluated)
	switch d.Outcome {
	case decision.Bound:
		s := fmt.Sprintf("bound to %s", d.Node)
		switch {
		case d.Shortcut == "NominatedNode":
			return s + fmt.Sprintf(": its nominated node, tried first and feasible (%s)", counts)
		case d.Shortcut == "BatchHint":
			return s + fmt.Sprintf(": the batching hint left by the previous pod of the same shape, tried first and feasible (%s)", counts)
		case d.Margin == nil:
			return s + fmt.Sprintf(": the only feasible node (%s)", counts)
		case d.Tied > 0:
			return s + fmt.Sprintf(": rank 1 of %d feasible (%s), tied with %d other node(s), picked at random", n.Feasible, counts, d.Tied)
		default:
			return s + fmt.Sprintf(": rank 1 of %d feasible (%s), margin %d", n.Feasible, counts, *d.Margin)
		}
	case decision.Nominated:
		return fmt.Sprintf("no node fitted (%s); preemption nominated %s", counts, d.Node)
	case decision.Unschedulable:
		return fmt.Sprintf("unschedulable: no node fitted (%s)", counts)
	default:
		if d.Node != "" {
			return fmt.Sprintf("failed after choosing %s (%s)", d.Node, counts)
		}
		return fmt.Sprintf("failed (%s)", counts)
	}
}

func rejections(rs []decision.Rejection, o PrintOptions) string {
	var out []string
	for _, r := range rs {
		s := fmt.Sprintf("%d %s", r.Nodes, r.Reason)
		if r.Plugin != "" {
			s += " (" + r.Plugin
			if len(r.Examples) > 0 {
				s += ": " + strings.Join(r.Examples, ", ")
				if r.Nodes > len(r.Examples) {
					s += ", ..."
				}
			}
			s += ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// sinceThen words the differences between the decision and now.
func sinceThen(s *explain.SinceDecision) string {
	var out []string
	switch {
	case s.Node == "":
	case s.NodeGone:
		out = append(out, fmt.Sprintf("%s is gone", s.Node))
	case s.NodeRejection != nil:
		out = append(out, fmt.Sprintf("%s would now be rejected by %s: %s", s.Node, s.NodeRejection.Plugin, strings.Join(s.NodeRejection.Reasons, "; ")))
	case s.RankNow != s.RankThen && s.RankThen > 0:
		out = append(out, fmt.Sprintf("%s ranks %d now (%d then)", s.Node, s.RankNow, s.RankThen))
	case s.RankNow > 0:
		out = append(out, fmt.Sprintf("%s still ranks %d", s.Node, s.RankNow))
	}
	if s.FeasibleNow != s.FeasibleThen || s.NodesNow != s.NodesThen {
		out = append(out, fmt.Sprintf("%d of %d nodes feasible now (%d of %d then)", s.FeasibleNow, s.NodesNow, s.FeasibleThen, s.NodesThen))
	}
	if s.PodChanged {
		out = append(out, "the pod's spec changed")
	}
	if len(out) == 0 {
		return "nothing that changes the answer"
	}
	return strings.Join(out, "; ")
}

func age(t time.Time) string {
	return duration.HumanDuration(now().Sub(t))
}

// printDecisions writes one line per record.
func printDecisions(w io.Writer, l *decision.DecisionList, o PrintOptions) error {
	if len(l.Items) == 0 {
		_, err := fmt.Fprintln(w, "No decision records.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tPOD\tOUTCOME\tNODE\tFEASIBLE\tMARGIN\tATTEMPTS\tAGE\tTOP REJECTION")
	for _, d := range l.Items {
		node, margin, top := "-", "-", "-"
		if d.Node != "" {
			node = d.Node
		}
		if d.Margin != nil {
			margin = fmt.Sprint(*d.Margin)
		}
		if len(d.Rejections) > 0 {
			r := d.Rejections[0]
			top = fmt.Sprintf("%d %s", r.Nodes, r.Reason)
			if !o.Wide && len(top) > 60 {
				top = top[:57] + "..."
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%d\t%s\t%s\n", d.Namespace, d.Pod.Name, d.Outcome, node,
			d.Nodes.Feasible, d.Nodes.Total, margin, d.Attempts, age(d.Time.Time), top)
	}
	return tw.Flush()
}
