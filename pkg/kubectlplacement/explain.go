package kubectlplacement

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

type explainFlags struct {
	common
	podFile, uid              string
	decisionsOnly             bool
	allPending, allNamespaces bool
	top, nodesPerGroup        int
}

func newExplainCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := explainFlags{common: common{conn: conn}}
	cmd := &cobra.Command{
		Use:   "explain (pod/NAME | NAME | --pod-file FILE | --all-pending [-A])",
		Short: "Say why a pod is pending, or why it landed where it did",
		Long: `Runs the scheduler's profile (our plugins and the upstream ones) over one
snapshot of the live cluster: PreFilter and Filter on every node, PreScore,
Score and NormalizeScore on the feasible ones. Prints the plugin and reason
for each rejected node (grouped), each plugin's score per feasible node, the
node the scheduler would pick now and, for a bound pod, where its node ranks.
With --all-pending, one row per pending pod of the scheduler's profiles with
the plugin that keeps it off the most nodes.
When the scheduler recorded its decision on the pod (a PlacementDecision,
written by its scheduling cycle), that record is printed first, with what
differs now: the node gone or rejected, its rank, the feasible count. --uid
and --decisions print the records only, also of pods that no longer exist.
Read-only: needs the placement-scheduler-explain ClusterRole.`,
		Example: `  kubectl placement explain pod/web-0 -n shop
  kubectl placement explain web-0 -o json
  kubectl placement explain --pod-file deploy.yaml
  kubectl placement explain --all-pending -A
  kubectl placement explain --uid 3f2a...-9c1e -n shop`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.progress = cmd.ErrOrStderr()
			return withRoleHint(runExplain(cmd.Context(), out, &f, args))
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 || f.allPending {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completePods(cmd.Context(), conn, toComplete), cobra.ShellCompDirectiveNoFileComp
		},
	}
	fl := cmd.Flags()
	f.addFlags(fl)
	fl.StringVar(&f.podFile, "pod-file", "", "explain the pod this manifest would create (a Pod or a workload's template; \"-\" reads stdin)")
	fl.BoolVar(&f.allPending, "all-pending", false, "one row per pending pod of the scheduler's profiles in the namespace")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "with --all-pending, look in every namespace")
	fl.IntVar(&f.top, "top", 10, "feasible nodes to list in text output; 0 lists all")
	fl.IntVar(&f.nodesPerGroup, "nodes-per-reason", 5, "node names to list per rejection reason in text output; 0 lists all")
	fl.StringVar(&f.uid, "uid", "", "print the recorded decision of the pod with this UID (which may no longer exist), without evaluating")
	fl.BoolVar(&f.decisionsOnly, "decisions", false, "print the recorded decisions of the pods named NAME (existing or not), without evaluating")
	return cmd
}

func runExplain(ctx context.Context, out io.Writer, f *explainFlags, args []string) error {
	if err := f.checkOutput(); err != nil {
		return err
	}
	if f.uid != "" || f.decisionsOnly {
		return explainRecorded(ctx, out, f, args)
	}
	named := 0
	for _, given := range []bool{len(args) == 1, f.podFile != "", f.allPending} {
		if given {
			named++
		}
	}
	if named != 1 {
		return fmt.Errorf("name one pod (pod/NAME, NAME or --pod-file FILE) or pass --all-pending")
	}
	if f.allNamespaces && !f.allPending {
		return fmt.Errorf("--all-namespaces goes with --all-pending")
	}
	if f.allPending && f.profile != "" {
		return fmt.Errorf("--all-pending explains each pod with its own profile; drop --profile")
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	var pod *v1.Pod
	if !f.allPending {
		if pod, err = loadPod(ctx, c, f.podFile, args); err != nil {
			return c.reachable(err)
		}
	}
	s, err := c.open(ctx, &f.common)
	if err != nil {
		return err
	}
	defer s.Close()
	o := PrintOptions{Top: f.top, NodesPerGroup: f.nodesPerGroup}
	if f.allPending {
		namespace := c.namespace
		if f.allNamespaces {
			namespace = ""
		}
		pending, err := s.PendingPods(ctx, namespace)
		if err != nil {
			return err
		}
		return Print(out, pending, f.output, o)
	}
	e, err := s.Explain(ctx, pod)
	if err != nil {
		return withProfileHint(err)
	}
	if pod.UID != "" {
		d, err := decision.Get(ctx, c.dyn, pod.Namespace, string(pod.UID))
		if err != nil && !noRecords(err) {
			return c.reachable(recordsError(err, "get", pod.Namespace, string(pod.UID)))
		}
		e.Compare(d, pod.Generation)
	}
	return Print(out, e, f.output, o)
}

// explainRecorded prints recorded decisions only: of one pod by UID
// (--uid), or of the pods named NAME (--decisions).
func explainRecorded(ctx context.Context, out io.Writer, f *explainFlags, args []string) error {
	switch {
	case f.uid != "" && f.decisionsOnly:
		return fmt.Errorf("--uid and --decisions are two ways to name the pod; give one")
	case f.decisionsOnly && len(args) != 1:
		return fmt.Errorf("--decisions takes the pod's NAME")
	case f.uid != "" && len(args) > 0:
		return fmt.Errorf("--uid names the pod; drop %q", args[0])
	case f.podFile != "" || f.allPending:
		return fmt.Errorf("--uid and --decisions read records of real pods; drop --pod-file and --all-pending")
	}
	if f.decisionsOnly {
		name := args[0]
		if kind, n, ok := strings.Cut(name, "/"); ok && (kind == "pod" || kind == "pods" || kind == "po") {
			name = n
		}
		return runDecisions(ctx, out, &decisionsFlags{conn: f.conn, output: f.output}, []string{name})
	}
	if err := f.checkOutput(); err != nil {
		return err
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	d, err := decision.Get(ctx, c.dyn, c.namespace, f.uid)
	if err != nil {
		return c.reachable(recordsError(err, "get", c.namespace, f.uid))
	}
	if d == nil {
		return fmt.Errorf("no decision record of a pod with uid %s in namespace %s (records expire; -n names the pod's namespace)", f.uid, c.namespace)
	}
	return Print(out, d, f.output, PrintOptions{})
}

// noRecords says the cluster has no records to read: the CRD is not
// installed. Explain then explains without one.
func noRecords(err error) bool {
	return apierrors.IsNotFound(err)
}

// completePods lists the names of the pods in the namespace for shell
// completion; errors complete nothing.
func completePods(ctx context.Context, conn *genericclioptions.ConfigFlags, prefix string) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := connect(conn)
	if err != nil {
		return nil
	}
	pods, err := c.cs.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var names []string
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, prefix) {
			names = append(names, p.Name)
		}
	}
	return names
}

func loadPod(ctx context.Context, c *clusterClient, file string, args []string) (*v1.Pod, error) {
	if file != "" {
		return podFromFile(c, file)
	}
	name := args[0]
	if kind, n, ok := strings.Cut(name, "/"); ok {
		if kind != "pod" && kind != "pods" && kind != "po" {
			return nil, fmt.Errorf("%q: explain takes pods, as pod/NAME or NAME (simulate takes workloads)", name)
		}
		name = n
	}
	return getPod(ctx, c.cs, c.namespace, name)
}

func getPod(ctx context.Context, cs kubernetes.Interface, namespace, name string) (*v1.Pod, error) {
	pod, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, explain.NewRequestError(err, "get", "pods", namespace, name)
	}
	return pod, nil
}

// podFromFile reads one Pod or workload and returns the first pod it would
// create, with the API server's defaults and validation applied.
func podFromFile(c *clusterClient, file string) (*v1.Pod, error) {
	ws, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: c.namespace, EnforceNamespace: c.explicitNamespace, Replicas: -1})
	if err != nil {
		return nil, err
	}
	if len(ws) != 1 {
		return nil, fmt.Errorf("%s holds %d objects; explain takes one (simulate takes many)", file, len(ws))
	}
	return ws[0].Pod(0), nil
}
