package kubectlplacement

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	v1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

// files are kubectl's -f and -R.
type files struct {
	filenames []string
	recursive bool
}

func (fs *files) addFlags(fl *pflag.FlagSet, what string) {
	fl.StringSliceVarP(&fs.filenames, "filename", "f", nil, what+" (files, directories, or - for standard input; repeatable)")
	fl.BoolVarP(&fs.recursive, "recursive", "R", false, "process the directory used in -f recursively")
}

func (fs *files) check() error {
	if len(fs.filenames) == 0 {
		return fmt.Errorf("name the manifests with -f FILE, DIR or - (standard input)")
	}
	return nil
}

// read reads the workloads the files hold, in the command's namespace.
func (fs *files) read(c *clusterClient, replicas int) ([]*workload.Workload, error) {
	return workload.Read(workload.Options{
		Filenames: fs.filenames, Recursive: fs.recursive,
		Namespace: c.namespace, EnforceNamespace: c.explicitNamespace,
		Replicas: replicas,
	})
}

// addedNodes are the flags that add nodes of one shape to the snapshot.
type addedNodes struct {
	add      int
	template string
	like     string
}

func (a *addedNodes) addFlags(fl *pflag.FlagSet) {
	fl.IntVar(&a.add, "add-nodes", 0, fmt.Sprintf("add this many nodes (at most %d) like --node-template or --like before placing", explain.MaxAddedNodes))
	fl.StringVar(&a.template, "node-template", "", "a Node manifest: the shape of added nodes (labels, taints, allocatable)")
	fl.StringVar(&a.like, "like", "", "an existing node: the shape of added nodes")
}

// check validates the flags before anything is read from the cluster and
// returns the template file's node (nil with --like or no shape).
func (a *addedNodes) check(needShape bool) (*v1.Node, error) {
	if err := checkCount("add-nodes", a.add, explain.MaxAddedNodes); err != nil {
		return nil, err
	}
	if a.template != "" && a.like != "" {
		return nil, fmt.Errorf("--node-template and --like both give the added nodes' shape; pass one")
	}
	if (needShape || a.add > 0) && a.template == "" && a.like == "" {
		return nil, fmt.Errorf("give the added nodes' shape with --node-template FILE or --like NODE")
	}
	if a.template == "" {
		return nil, nil
	}
	data, err := os.ReadFile(a.template)
	if err != nil {
		return nil, fmt.Errorf("--node-template: %w", err)
	}
	node, err := explain.NodeTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("--node-template %s: %w", a.template, err)
	}
	return node, nil
}

// shape is the added nodes' template: the file's node, or --like's.
func (a *addedNodes) shape(s *explain.Session, fromFile *v1.Node) (*v1.Node, error) {
	if fromFile != nil {
		return fromFile, nil
	}
	if a.like == "" {
		return nil, nil
	}
	node, err := s.Node(a.like)
	if err != nil {
		return nil, fmt.Errorf("--like: %w", err)
	}
	return node, nil
}

// apply adds the nodes to the session and returns their names.
func (a *addedNodes) apply(ctx context.Context, s *explain.Session, fromFile *v1.Node) ([]string, error) {
	if a.add == 0 {
		return nil, nil
	}
	template, err := a.shape(s, fromFile)
	if err != nil {
		return nil, err
	}
	return s.AddNodes(ctx, template, a.add)
}

type simulateFlags struct {
	common
	files
	addedNodes
	replicas     int
	nodesNeeded  bool
	maxNodes     int
	noPreemption bool
}

func addNoPreemptionFlag(fl *pflag.FlagSet, v *bool) {
	fl.BoolVar(v, "no-preemption", false, "leave pending the pods that fit only by preempting lower-priority pods, instead of running the profile's preemption")
}

func newSimulateCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := simulateFlags{common: common{conn: conn}}
	cmd := &cobra.Command{
		Use:   "simulate -f FILE|DIR|-",
		Short: "Say where a workload's replicas would land, and why the rest would stay pending",
		Long: `Places the replicas of Pods, Deployments, ReplicaSets, StatefulSets, Jobs,
CronJobs and ReplicationControllers one at a time over a snapshot of the live
cluster, as the scheduler's profile would: each placed replica is counted in
the snapshot, so anti-affinity among the new replicas, topology spread and
resource requests all apply. Prints per zone and per node how many land, how
many stay pending and, for the first that fits nowhere, the plugins that
reject it. A replica that fits nowhere preempts as the scheduler's would:
the profile's DefaultPreemption picks the node and the lower-priority pods
to evict, which leave the snapshot (--no-preemption turns this off).
Read-only.`,
		Example: `  kubectl placement simulate -f deploy.yaml
  kubectl placement simulate -f manifests/ -R --replicas 12 -o json
  helm template my-app ./chart | kubectl placement simulate -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.progress = cmd.ErrOrStderr()
			return withRoleHint(runSimulate(cmd.Context(), out, &f, cmd.Flags().Changed("replicas")))
		},
	}
	fl := cmd.Flags()
	f.common.addFlags(fl)
	f.files.addFlags(fl, "the manifests to simulate")
	fl.IntVar(&f.replicas, "replicas", 0, "replicas for every workload, instead of their own (a Job's parallelism)")
	f.addedNodes.addFlags(fl)
	fl.BoolVar(&f.nodesNeeded, "nodes-needed", false, "find the fewest nodes like --node-template or --like with which every replica is placed")
	fl.IntVar(&f.maxNodes, "max-nodes", 1000, "with --nodes-needed, the most nodes to try")
	addNoPreemptionFlag(fl, &f.noPreemption)
	return cmd
}

func checkCount(flag string, n, max int) error {
	if n < 0 {
		return fmt.Errorf("--%s %d: must not be negative", flag, n)
	}
	if n > max {
		return fmt.Errorf("--%s %d: at most %d", flag, n, max)
	}
	return nil
}

func runSimulate(ctx context.Context, out io.Writer, f *simulateFlags, replicasSet bool) error {
	if err := f.checkOutput(); err != nil {
		return err
	}
	if err := f.files.check(); err != nil {
		return err
	}
	replicas := -1
	if replicasSet {
		if err := checkCount("replicas", f.replicas, workload.MaxReplicas); err != nil {
			return err
		}
		replicas = f.replicas
	}
	if f.nodesNeeded && f.add > 0 {
		return fmt.Errorf("--nodes-needed finds how many nodes to add; drop --add-nodes")
	}
	if err := checkCount("max-nodes", f.maxNodes, explain.MaxAddedNodes); err != nil {
		return err
	}
	fromFile, err := f.addedNodes.check(f.nodesNeeded)
	if err != nil {
		return err
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	ws, err := f.read(c, replicas)
	if err != nil {
		return err
	}
	opts := explain.Options{NoPreemption: f.noPreemption}
	s, prio, err := c.openForPlacing(ctx, &f.common, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	if f.nodesNeeded {
		template, err := f.addedNodes.shape(s, fromFile)
		if err != nil {
			return err
		}
		answer, err := explain.FindNodesNeeded(ctx, s, ws, prio, template, f.maxNodes)
		if err != nil {
			return withProfileHint(err)
		}
		return Print(out, answer, f.output, PrintOptions{})
	}
	added, err := f.addedNodes.apply(ctx, s, fromFile)
	if err != nil {
		return err
	}
	sim, err := s.Simulate(ctx, ws, prio)
	if err != nil {
		return withProfileHint(err)
	}
	sim.AddedNodes = added
	return Print(out, sim, f.output, PrintOptions{})
}

type capacityFlags struct {
	common
	files
	addedNodes
	max          int
	noPreemption bool
}

func newCapacityCommand(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	f := capacityFlags{common: common{conn: conn}}
	cmd := &cobra.Command{
		Use:   "capacity -f FILE|-",
		Short: "Say how many more copies of a pod fit, where, and why not one more",
		Long: `Places copies of one pod (a Pod, or the template of a workload) one at a
time over a snapshot of the live cluster, as the scheduler's profile would,
until one fits nowhere or --max have been placed. Prints how many fit, per
zone and per node, and the plugins that reject the next copy. Copies
preempt lower-priority pods as the scheduler's would (--no-preemption
turns this off). Read-only.`,
		Example: `  kubectl placement capacity -f pod.yaml
  kubectl placement capacity -f deploy.yaml --max 5000 -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.progress = cmd.ErrOrStderr()
			return withRoleHint(runCapacity(cmd.Context(), out, &f))
		},
	}
	fl := cmd.Flags()
	f.common.addFlags(fl)
	f.files.addFlags(fl, "the pod or workload whose pods to count")
	fl.IntVar(&f.max, "max", 1000, "stop counting at this many copies")
	f.addedNodes.addFlags(fl)
	addNoPreemptionFlag(fl, &f.noPreemption)
	return cmd
}

func runCapacity(ctx context.Context, out io.Writer, f *capacityFlags) error {
	if err := f.checkOutput(); err != nil {
		return err
	}
	if err := f.files.check(); err != nil {
		return err
	}
	if err := checkCount("max", f.max, workload.MaxReplicas); err != nil {
		return err
	}
	fromFile, err := f.addedNodes.check(false)
	if err != nil {
		return err
	}
	c, err := connect(f.conn)
	if err != nil {
		return err
	}
	ws, err := f.read(c, -1)
	if err != nil {
		return err
	}
	if len(ws) != 1 {
		return fmt.Errorf("capacity counts copies of one pod; %s hold %d objects", f.filenames, len(ws))
	}
	s, prio, err := c.openForPlacing(ctx, &f.common, explain.Options{NoPreemption: f.noPreemption})
	if err != nil {
		return err
	}
	defer s.Close()
	added, err := f.addedNodes.apply(ctx, s, fromFile)
	if err != nil {
		return err
	}
	r, err := s.Capacity(ctx, ws[0], f.max, prio)
	if err != nil {
		return withProfileHint(err)
	}
	r.AddedNodes = added
	return Print(out, r, f.output, PrintOptions{})
}

// openForPlacing opens a session and reads the PriorityClasses that new pods
// take their priority from.
func (c *clusterClient) openForPlacing(ctx context.Context, f *common, o explain.Options) (*explain.Session, *explain.Priorities, error) {
	s, err := c.openWith(ctx, f, o)
	if err != nil {
		return nil, nil, err
	}
	prio, err := explain.ListPriorities(ctx, c.cs)
	if err != nil {
		s.Close()
		return nil, nil, c.reachable(err)
	}
	return s, prio, nil
}
