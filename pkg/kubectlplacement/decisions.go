package kubectlplacement

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

type decisionsFlags struct {
	conn          *genericclioptions.ConfigFlags
	output        string
	selector      string
	since         time.Duration
	allNamespaces bool
}

func newDecisionsCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := decisionsFlags{conn: conn}
	cmd := &cobra.Command{
		Use:   "decisions [POD_NAME] [-l SELECTOR] [--since DURATION]",
		Short: "List the scheduler's recorded decisions: where each pod went, or why it did not",
		Long: `Lists the PlacementDecision records placement-scheduler writes from its
scheduling cycles, newest first, one line each: outcome, node, feasible
nodes of all, the chosen node's lead over the runner-up (margin), attempts,
age and the largest rejection. Records outlive their pods (for the retention
the PlacementDecisions plugin is configured with), so a deleted pod's last
decision can still be read. With POD_NAME, every record of pods of that name
is printed in full. -l selects by the pods' labels, which records carry.
Readable by whoever may view the namespace.`,
		Example: `  kubectl placement decisions -n shop --since 1h
  kubectl placement decisions -A -l app=web -o json
  kubectl placement decisions web-0 -n shop`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRoleHint(runDecisions(cmd.Context(), out, &f, args))
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, wide, json, yaml (docs/output.md describes the JSON)")
	fl.StringVarP(&f.selector, "selector", "l", "", "label selector over the pods' labels (=, ==, !=, in, notin)")
	fl.DurationVar(&f.since, "since", 0, "only decisions made within this duration, e.g. 1h; 0 lists all")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list the records of every namespace")
	return cmd
}

func runDecisions(ctx context.Context, out io.Writer, f *decisionsFlags, args []string) error {
	if err := (&common{output: f.output}).checkOutput(); err != nil {
		return err
	}
	if f.since < 0 {
		return fmt.Errorf("--since %v: want a positive duration", f.since)
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	o := decision.ListOptions{Namespace: c.namespace, Selector: f.selector, Since: f.since, Now: now()}
	if f.allNamespaces {
		o.Namespace = ""
	}
	if len(args) == 1 {
		o.PodName = args[0]
	}
	l, err := decision.List(ctx, c.dyn, o)
	if err != nil {
		return c.reachable(recordsError(err, "list", o.Namespace, ""))
	}
	if o.PodName == "" || f.output != "text" && f.output != "wide" {
		return Print(out, l, f.output, PrintOptions{})
	}
	if len(l.Items) == 0 {
		return fmt.Errorf("no decision records of a pod named %q in namespace %s", o.PodName, o.Namespace)
	}
	for i := range l.Items {
		if i > 0 {
			fmt.Fprintln(out)
		}
		d := &l.Items[i]
		fmt.Fprintf(out, "Pod %s/%s (uid %s):\n", d.Namespace, d.Pod.Name, d.Pod.UID)
		if err := printDecision(out, d, nil, PrintOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// recordsError turns a refused or failed read of records into the error
// kubectl placement gives for any read (naming the permission); a cluster
// without the CRD is told so.
func recordsError(err error, verb, namespace, name string) error {
	if apierrors.IsNotFound(err) && name == "" {
		return fmt.Errorf("this cluster has no %s: install placement-scheduler's CRDs (manifests/crds, or the Helm chart)", schema.GroupResource{Group: decision.Group, Resource: decision.Resource})
	}
	return explain.NewRequestError(err, verb, decision.Resource, namespace, name)
}
