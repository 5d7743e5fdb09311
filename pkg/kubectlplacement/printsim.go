package kubectlplacement

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

func printSimulation(w io.Writer, s *explain.Simulation, o PrintOptions) error {
	fmt.Fprintf(w, "Nodes: %d%s\n", s.Nodes, added(s.AddedNodes, o))
	for i := range s.Workloads {
		if err := printWorkload(w, &s.Workloads[i], o); err != nil {
			return err
		}
	}
	return nil
}

func printWorkload(w io.Writer, r *explain.WorkloadPlacement, o PrintOptions) error {
	fmt.Fprintf(w, "\n%s -n %s (profile %s): %d replicas, %d placed, %d pending\n", r.Workload, r.Namespace, r.Profile, r.Replicas, r.Placed, r.Pending)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  Note: %s\n", n)
	}
	if err := printCounts(w, r.ByZone, r.ByNode, o); err != nil {
		return err
	}
	if err := printPreemptions(w, r.Preemptions, o); err != nil {
		return err
	}
	if r.FirstPending != nil {
		return printPendingReplica(w, "First pending replica "+r.FirstPending.Pod, r.FirstPending, o)
	}
	return nil
}

func printCapacity(w io.Writer, c *explain.CapacityReport, o PrintOptions) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Pod:\t%s\n", c.Pod)
	fmt.Fprintf(tw, "Profile:\t%s\n", c.Profile)
	fmt.Fprintf(tw, "Nodes:\t%d%s\n", c.Nodes, added(c.AddedNodes, o))
	if c.Limited {
		fmt.Fprintf(tw, "Fits:\tat least %d more (stopped at --max %d)\n", c.Fits, c.Max)
	} else {
		fmt.Fprintf(tw, "Fits:\t%d more\n", c.Fits)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(tw, "Note:\t%s\n", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printCounts(w, c.ByZone, c.ByNode, o); err != nil {
		return err
	}
	if err := printPreemptions(w, c.Preemptions, o); err != nil {
		return err
	}
	if c.Next != nil {
		return printPendingReplica(w, "The next copy fits nowhere", c.Next, o)
	}
	return nil
}

// printCounts prints the zones, then the nodes (the top ten unless wide).
func printCounts(w io.Writer, zones, nodes []explain.Count, o PrintOptions) error {
	if len(nodes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ZONE\tPODS")
	for _, z := range zones {
		fmt.Fprintf(tw, "  %s\t%d\n", orNone(z.Name), z.Pods)
	}
	fmt.Fprintln(tw, "  NODE\tPODS")
	shown := nodes
	if !o.Wide && len(shown) > 10 {
		shown = shown[:10]
	}
	for _, n := range shown {
		fmt.Fprintf(tw, "  %s\t%d\n", n.Name, n.Pods)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rest := len(nodes) - len(shown); rest > 0 {
		fmt.Fprintf(w, "  ... %d more nodes (-o wide lists all)\n", rest)
	}
	return nil
}

// printPreemptions lists the pods placed by preempting and their victims
// (five a pod unless wide).
func printPreemptions(w io.Writer, ps []explain.Preemption, o PrintOptions) error {
	if len(ps) == 0 {
		return nil
	}
	limit := 5
	if o.Wide {
		limit = 0
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PREEMPTING POD\tNOMINATED NODE\tNODE\tPDB VIOLATIONS\tVICTIMS")
	for _, p := range ps {
		victims := make([]string, len(p.Victims))
		for i, v := range p.Victims {
			victims[i] = v.Namespace + "/" + v.Name
			if v.Simulated {
				victims[i] += " (simulated)"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", p.Pod, p.Node, orNone(p.NodeName), p.PDBViolations, abbreviate(victims, limit))
	}
	return tw.Flush()
}

func printPendingReplica(w io.Writer, title string, p *explain.PendingReplica, o PrintOptions) error {
	fmt.Fprintf(w, "  %s: %s\n", title, p.Unschedulable)
	perGroup := 5
	if o.Wide {
		perGroup = 0
	}
	if err := printRejected(w, p.Rejected, PrintOptions{NodesPerGroup: perGroup}); err != nil {
		return err
	}
	if len(p.PreemptionCandidates) > 0 {
		fmt.Fprintf(w, "  Preemption was not simulated (--no-preemption): %d node(s) would fit %s after evicting lower-priority pods: %s\n",
			len(p.PreemptionCandidates), p.Pod, abbreviate(p.PreemptionCandidates, perGroup))
	}
	return nil
}

func printPending(w io.Writer, p *explain.PendingPods, o PrintOptions) error {
	if len(p.Pods) == 0 {
		_, err := fmt.Fprintln(w, "No pending pods of the scheduler's profiles.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := []string{"NAMESPACE", "NAME", "PROFILE", "BLOCKED BY", "NODES", "REASON"}
	if o.Wide {
		header = append(header, "MESSAGE")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, pod := range p.Pods {
		row := []string{pod.Namespace, pod.Name, pod.Profile}
		switch {
		case pod.Error != "":
			row = append(row, "-", "-", pod.Error)
		case pod.Schedulable:
			row = append(row, "-", "-", "fits now: "+strings.Join(pod.Pick, ", "))
		case pod.Blocker != nil:
			row = append(row, pod.Blocker.Plugin, fmt.Sprintf("%d/%d", len(pod.Blocker.Nodes), p.Nodes), strings.Join(pod.Blocker.Reasons, "; "))
		default:
			row = append(row, "-", "-", pod.Unschedulable)
		}
		if o.Wide {
			row = append(row, orNone(pod.Unschedulable))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// added says which nodes a question added to the snapshot.
func added(names []string, o PrintOptions) string {
	if len(names) == 0 {
		return ""
	}
	limit := 3
	if o.Wide {
		limit = 0
	}
	return fmt.Sprintf(" (%d added: %s)", len(names), abbreviate(names, limit))
}

func printNodesNeeded(w io.Writer, n *explain.NodesNeeded, o PrintOptions) error {
	if n.Needed < 0 {
		fmt.Fprintf(w, "No number of nodes like %s up to %d places every replica (%d simulations). With %d added:\n\n", n.Template, n.Max, n.Trials, n.Max)
	} else {
		fmt.Fprintf(w, "Nodes needed: %d more like %s (the cluster has %d; %d simulations).\n\n", n.Needed, n.Template, n.Nodes, n.Trials)
	}
	return printSimulation(w, n.Simulation, o)
}
