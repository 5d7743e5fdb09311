package kubectlplacement

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
)

// PrintOptions shape the text output.
type PrintOptions struct {
	// Top limits the feasible nodes listed; 0 lists all.
	Top int
	// NodesPerGroup limits the node names listed per rejection group; 0
	// lists all.
	NodesPerGroup int
	// Wide adds columns and abbreviates nothing (-o wide).
	Wide bool
}

// Formats are the -o values every command takes.
var Formats = []string{"text", "wide", "json", "yaml"}

// Print writes an answer (an *explain.Explanation, *explain.Simulation,
// *explain.CapacityReport, *explain.PendingPods, *explain.Drift,
// *explain.DrainPlan, *explain.NodesNeeded, *decision.Decision or
// *decision.DecisionList) as "text", "wide" (text with nothing abbreviated),
// or with kubectl's JSON and YAML printers.
func Print(w io.Writer, obj runtime.Object, format string, o PrintOptions) error {
	switch format {
	case "json":
		return (&printers.JSONPrinter{}).PrintObj(obj, w)
	case "yaml":
		return (&printers.YAMLPrinter{}).PrintObj(obj, w)
	case "wide":
		o = PrintOptions{Wide: true}
	case "", "text":
	default:
		return fmt.Errorf("unknown output format %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	switch a := obj.(type) {
	case *explain.Explanation:
		return printText(w, a, o)
	case *explain.Simulation:
		return printSimulation(w, a, o)
	case *explain.CapacityReport:
		return printCapacity(w, a, o)
	case *explain.PendingPods:
		return printPending(w, a, o)
	case *explain.Drift:
		return printDrift(w, a, o)
	case *explain.DrainPlan:
		return printDrain(w, a, o)
	case *explain.NodesNeeded:
		return printNodesNeeded(w, a, o)
	case *decision.Decision:
		return printDecision(w, a, nil, o)
	case *decision.DecisionList:
		return printDecisions(w, a, o)
	}
	return fmt.Errorf("no text form for %T", obj)
}

func printText(w io.Writer, e *explain.Explanation, o PrintOptions) error {
	if e.Decision != nil {
		fmt.Fprintln(w, "The scheduler's decision, as recorded by its scheduling cycle:")
		if err := printDecision(w, e.Decision, e.Since, o); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nToday's evaluation:")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Pod:\t%s\n", e.Pod)
	fmt.Fprintf(tw, "Profile:\t%s\n", e.Profile)
	if e.BoundNode != "" {
		fmt.Fprintf(tw, "Bound to:\t%s (evaluated as if pending)\n", e.BoundNode)
	}
	fmt.Fprintf(tw, "Nodes:\t%d, %d feasible\n", e.Nodes, len(e.Feasible))
	switch {
	case e.Unschedulable != "":
		fmt.Fprintf(tw, "Verdict:\tunschedulable: %s\n", e.Unschedulable)
	case len(e.Pick) == 1:
		fmt.Fprintf(tw, "Verdict:\twould go to %s (score %d)\n", e.Pick[0], e.Feasible[0].Total)
	case len(e.Pick) > 1:
		fmt.Fprintf(tw, "Verdict:\twould go to one of %s (tied at %d)\n", strings.Join(e.Pick, ", "), e.Feasible[0].Total)
	}
	if b := e.Bound; b != nil {
		if b.Rejection != nil {
			fmt.Fprintf(tw, "Bound node now:\t%s would be rejected by %s: %s\n", b.Node, b.Rejection.Plugin, strings.Join(b.Rejection.Reasons, "; "))
		} else {
			fmt.Fprintf(tw, "Bound node now:\t%s ranks %d of %d\n", b.Node, b.Rank, b.Feasible)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(e.Rejected) > 0 {
		fmt.Fprintf(w, "\nRejected nodes:\n")
		if err := printRejected(w, e.Rejected, o); err != nil {
			return err
		}
	}
	if len(e.Feasible) > 0 {
		fmt.Fprintf(w, "\nFeasible nodes (normalized score × weight = weighted):\n")
		if err := printFeasible(w, e.Feasible, o); err != nil {
			return err
		}
	}
	return nil
}

func printRejected(w io.Writer, groups []explain.Rejection, o PrintOptions) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  COUNT\tPLUGIN\tREASON\tNODES")
	for _, g := range groups {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", len(g.Nodes), g.Plugin, strings.Join(g.Reasons, "; "), abbreviate(g.Nodes, o.NodesPerGroup))
	}
	return tw.Flush()
}

func printFeasible(w io.Writer, nodes []explain.NodeScore, o PrintOptions) error {
	// Columns follow the plugins of the best node, which every node shares
	// except plugins skipped for the whole cycle.
	var columns []string
	for _, p := range nodes[0].Plugins {
		columns = append(columns, p.Plugin)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  RANK\tNODE\tTOTAL\t%s\n", strings.Join(columns, "\t"))
	shown := nodes
	if o.Top > 0 && len(shown) > o.Top {
		shown = shown[:o.Top]
	}
	for _, n := range shown {
		cells := make([]string, len(n.Plugins))
		for i, p := range n.Plugins {
			cells[i] = fmt.Sprintf("%d×%d=%d", p.Score, p.Weight, p.Weighted)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\n", n.Rank, n.Node, n.Total, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rest := len(nodes) - len(shown); rest > 0 {
		fmt.Fprintf(w, "  ... %d more feasible nodes (--top 0 lists all)\n", rest)
	}
	return nil
}

func abbreviate(names []string, limit int) string {
	if limit <= 0 || len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}
