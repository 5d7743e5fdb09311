package kubectlplacement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

type drainFlags struct {
	common
	selector string
}

func newDrainCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := drainFlags{common: common{conn: conn}}
	cmd := &cobra.Command{
		Use:   "drain (NODE... | -l SELECTOR)",
		Short: "Simulate draining nodes: where their pods would go, what stays pending, which budgets block",
		Long: `Simulates kubectl drain of the nodes over one snapshot of the cluster: the
nodes are cordoned and the pods a drain evicts are taken off them at once
(DaemonSet pods and mirror pods stay; a pod without a controller is deleted
for good and listed); then every evicted pod is placed again, highest
priority first, with its own scheduler profile on the nodes that remain, so
each counts for the next. Prints where each would go, which stay pending and
why, and the PodDisruptionBudgets that allow fewer disruptions now than the
drain evicts of their pods. Nothing is cordoned or evicted.
Read-only: needs the placement-scheduler-explain ClusterRole.`,
		Example: `  kubectl placement drain node-a1 node-a2
  kubectl placement drain -l topology.kubernetes.io/zone=zone-a -o wide`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.progress = cmd.ErrOrStderr()
			return withRoleHint(runDrain(cmd.Context(), out, &f, args))
		},
	}
	fl := cmd.Flags()
	f.addFlags(fl)
	fl.StringVarP(&f.selector, "selector", "l", "", "drain the nodes matching this label selector")
	return cmd
}

func runDrain(ctx context.Context, out io.Writer, f *drainFlags, args []string) error {
	if err := f.checkOutput(); err != nil {
		return err
	}
	if f.profile != "" {
		return fmt.Errorf("drain places each pod with its own profile; drop --profile")
	}
	if (len(args) > 0) == (f.selector != "") {
		return fmt.Errorf("name the nodes to drain, or select them with -l; not both")
	}
	var selector labels.Selector
	if f.selector != "" {
		var err error
		if selector, err = labels.Parse(f.selector); err != nil {
			return fmt.Errorf("--selector %q: %w", f.selector, err)
		}
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	s, err := c.open(ctx, &f.common)
	if err != nil {
		return err
	}
	defer s.Close()
	nodes := args
	if selector != nil {
		if nodes, err = s.NodesMatching(selector); err != nil {
			return err
		}
		if len(nodes) == 0 {
			return fmt.Errorf("no node matches --selector %q", f.selector)
		}
	}
	plan, err := s.Drain(ctx, nodes)
	if notFound := (*explain.NodesNotFoundError)(nil); errors.As(err, &notFound) {
		return fmt.Errorf("%w: kubectl get nodes lists the names", err)
	}
	if err != nil {
		return err
	}
	return Print(out, plan, f.output, PrintOptions{})
}

func printDrain(w io.Writer, p *explain.DrainPlan, o PrintOptions) error {
	fmt.Fprintf(w, "Drain %s (%d nodes remain).\n", abbreviate(p.Drained, 10), p.Remaining)
	fmt.Fprintf(w, "Evicted %d pods: %d placed again, %d pending.", len(p.Evicted), p.Placed, p.Pending)
	if len(p.Stay) > 0 {
		fmt.Fprintf(w, " %d stay (DaemonSet or mirror pods).", len(p.Stay))
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintf(w, " %d have no controller: deleted for good.", len(p.Unmanaged))
	}
	fmt.Fprintln(w)
	if len(p.Evicted) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		header := []string{"NAMESPACE", "NAME", "FROM", "TO"}
		if o.Wide {
			header = append(header, "CONTROLLER", "PRIORITY")
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, e := range p.Evicted {
			to := e.Node
			if to == "" {
				to = "pending: " + e.Unschedulable
			}
			row := []string{e.Namespace, e.Name, e.From, to}
			if o.Wide {
				row = append(row, e.Controller, fmt.Sprint(e.Priority))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if err := printPodRefs(w, "Deleted for good (no controller):", p.Unmanaged); err != nil {
		return err
	}
	if o.Wide {
		if err := printPodRefs(w, "Stay:", p.Stay); err != nil {
			return err
		}
	}
	if len(p.Budgets) > 0 {
		fmt.Fprintln(w, "\nPodDisruptionBudgets the evictions would wait on:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAMESPACE\tNAME\tALLOWED NOW\tEVICTS")
		for _, b := range p.Budgets {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\n", b.Namespace, b.Name, b.DisruptionsAllowed, b.Evicts)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	return nil
}

func printPodRefs(w io.Writer, title string, refs []explain.PodRef) error {
	if len(refs) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAMESPACE\tNAME\tNODE\tWHY")
	for _, r := range refs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Node, r.Reason)
	}
	return tw.Flush()
}
