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

	"github.com/kube-placement/placement-scheduler/pkg/evict"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

type driftFlags struct {
	common
	allNamespaces bool
	selector      string
	preferred     bool
	margin        int64
	evict         bool
	dryRun        string
	maxEvictions  int
}

func newDriftCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := driftFlags{common: common{conn: conn}}
	cmd := &cobra.Command{
		Use:   "drift [-A] [-l SELECTOR]",
		Short: "List running pods whose node now breaks their own placement rules",
		Long: `Placement rules are IgnoredDuringExecution: after a node is relabelled or
tainted, or pods' labels change, running pods can sit on nodes their required
rules reject. drift judges every running pod with the placement plugins of its
own profile (spec.nodeName, nodeSelector, required node affinity, taints with
effect NoSchedule or NoExecute, required pod affinity and anti-affinity, both
its own terms and other pods' terms against it), each plugin alone, with the
pod taken out of the snapshot; and says where the scheduler would put each
drifted pod now. Pods of default-scheduler are judged with upstream's default
profile unless the configuration has one of that name. Resources, ports,
volumes and cordons are not a pod's rules and are not judged.
With --evict, the drifted pods that a controller re-creates and that fit on
another node now go through the Eviction API, so PodDisruptionBudgets hold;
it is a dry run unless --dry-run=none. A pod without a controller, a
DaemonSet or mirror pod, or one that fits nowhere else is never evicted. A
refused eviction is reported and the command exits non-zero.
Reading needs the placement-scheduler-explain ClusterRole; --evict also
needs create pods/eviction (the optional placement-scheduler-evict role).`,
		Example: `  kubectl placement drift -A
  kubectl placement drift -n shop -l app=web -o wide
  kubectl placement drift -A -o json
  kubectl placement drift -n shop --evict                      # what would be evicted
  kubectl placement drift -n shop --evict --dry-run=none --max-evictions 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.progress = cmd.ErrOrStderr()
			return withRoleHint(runDrift(cmd.Context(), out, &f))
		},
	}
	fl := cmd.Flags()
	f.addFlags(fl)
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "judge the pods of every namespace")
	fl.StringVarP(&f.selector, "selector", "l", "", "judge only pods matching this label selector (e.g. app=web)")
	fl.BoolVar(&f.preferred, "preferred", false, "also list pods whose node now scores below the best by more than --margin (scores every node for every pod: slower)")
	fl.Int64Var(&f.margin, "margin", 10, "with --preferred, the total score a better node must win by")
	fl.BoolVar(&f.evict, "evict", false, "evict the drifted pods that may go, through the Eviction API")
	fl.StringVar(&f.dryRun, "dry-run", "client", `with --evict: "client" sends nothing, "server" asks the API server to check each eviction, "none" evicts`)
	fl.IntVar(&f.maxEvictions, "max-evictions", 0, "with --evict, evict at most this many pods (0: no limit)")
	return cmd
}

func runDrift(ctx context.Context, out io.Writer, f *driftFlags) error {
	if err := f.checkOutput(); err != nil {
		return err
	}
	if f.profile != "" {
		return fmt.Errorf("drift judges each pod with its own profile; drop --profile")
	}
	selector, err := labels.Parse(f.selector)
	if err != nil {
		return fmt.Errorf("--selector %q: %w", f.selector, err)
	}
	dryRun, err := evict.ParseDryRun(f.dryRun)
	if err != nil {
		return fmt.Errorf("--dry-run %q: %w", f.dryRun, err)
	}
	if err := checkCount("max-evictions", f.maxEvictions, 1<<20); err != nil {
		return err
	}
	if f.margin < 0 {
		return fmt.Errorf("--margin %d: must not be negative", f.margin)
	}
	if !f.evict && (f.maxEvictions != 0 || f.dryRun != string(evict.DryRunClient)) {
		return fmt.Errorf("--dry-run and --max-evictions go with --evict")
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	s, err := c.openWith(ctx, &f.common, explain.Options{Drift: true})
	if err != nil {
		return err
	}
	defer s.Close()
	namespace := c.namespace
	if f.allNamespaces {
		namespace = ""
	}
	d, err := s.Drift(ctx, explain.DriftOptions{Namespace: namespace, Selector: selector, Preferred: f.preferred, Margin: f.margin})
	if err != nil {
		return err
	}
	if !f.evict {
		return Print(out, d, f.output, PrintOptions{})
	}
	d.DryRun = string(dryRun)
	if d.Evictions, err = evict.Evict(ctx, c.cs, d.Pods, f.maxEvictions, dryRun); err != nil {
		if access := (*evict.AccessError)(nil); errors.As(err, &access) {
			return fmt.Errorf("%w\n%s", err, evictRoleHint)
		}
		return err
	}
	if err := Print(out, d, f.output, PrintOptions{}); err != nil {
		return err
	}
	return refusals(d.Evictions)
}

// evictRoleHint says which role grants --evict.
const evictRoleHint = "--evict needs create pods/eviction: the optional ClusterRole placement-scheduler-evict " +
	"(manifests/evict-rbac.yaml), bound to the group placement-scheduler:evictors, grants it"

// refusals is the error the command exits with when an eviction was refused
// or failed: the pods stay where they are.
func refusals(es []explain.Eviction) error {
	var names []string
	for _, e := range es {
		if e.Outcome == evict.Refused || e.Outcome == evict.Failed {
			names = append(names, e.Namespace+"/"+e.Name)
		}
	}
	if len(names) > 0 {
		return fmt.Errorf("%d eviction(s) refused or failed: %s", len(names), strings.Join(names, ", "))
	}
	return nil
}

func printDrift(w io.Writer, d *explain.Drift, o PrintOptions) error {
	if len(d.Pods) == 0 {
		fmt.Fprintf(w, "No running pod breaks its placement rules (%d judged on %d nodes).\n", d.Checked, d.Nodes)
	} else {
		what := "break their placement rules"
		for _, p := range d.Pods {
			if p.Preferred != nil {
				what = "break their placement rules or sit on a node that ranks behind"
			}
		}
		fmt.Fprintf(w, "%d of %d running pods %s (%d nodes).\n\n", len(d.Pods), d.Checked, what, d.Nodes)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		header := []string{"NAMESPACE", "NAME", "NODE", "BROKEN BY", "REASON", "WOULD GO TO"}
		if o.Wide {
			header = append(header, "PROFILE")
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, p := range d.Pods {
			var plugins, reasons []string
			if g := p.Preferred; g != nil {
				plugins = append(plugins, "(preferred)")
				reasons = append(reasons, fmt.Sprintf("scores %d; the best node %d (+%d)", g.NodeScore, g.BestScore, g.Gain))
			}
			for _, b := range p.Broken {
				plugins = append(plugins, orNone(b.Plugin))
				r := strings.Join(b.Reasons, "; ")
				if b.Detail != "" {
					r += " (" + b.Detail + ")"
				}
				reasons = append(reasons, r)
			}
			row := []string{p.Namespace, p.Name, p.Node, strings.Join(plugins, ","), strings.Join(reasons, "; "), wouldGo(p, o)}
			if o.Wide {
				row = append(row, p.Profile)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if len(d.Evictions) == 0 {
		return nil
	}
	title := "Evictions:"
	if d.DryRun != string(evict.DryRunNone) {
		title = fmt.Sprintf("Evictions (dry run: %s; --dry-run=none to evict):", d.DryRun)
	}
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAMESPACE\tNAME\tOUTCOME\tWHY")
	for _, e := range d.Evictions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Namespace, e.Name, e.Outcome, e.Message)
	}
	return tw.Flush()
}

// wouldGo is where a drifted pod would land now: the tied best nodes (three
// unless wide), or that it fits nowhere (the whole message when wide).
func wouldGo(p explain.DriftedPod, o PrintOptions) string {
	if len(p.Pick) > 0 {
		limit := 3
		if o.Wide {
			limit = 0
		}
		return abbreviate(p.Pick, limit)
	}
	if o.Wide {
		return "nowhere: " + p.Unschedulable
	}
	return "nowhere"
}
