// Package kubectlplacement is the kubectl-placement plugin's command line.
package kubectlplacement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/version"
)

// explainFlags are explain's command-line flags. The connection flags are
// kubectl's own (genericclioptions): --kubeconfig, --context, -n, --server,
// --token, --as, --request-timeout, ...
type explainFlags struct {
	conn                     *genericclioptions.ConfigFlags
	output, podFile, profile string
	config, deployment       string
	top, nodesPerGroup       int
	timeout                  time.Duration
}

// NewCommand returns `kubectl placement` with its explain subcommand,
// writing answers to out.
func NewCommand(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-placement",
		Short: "Inspect placement-scheduler decisions",
	}
	f := explainFlags{conn: genericclioptions.NewConfigFlags(true)}
	f.conn.AddFlags(root.PersistentFlags())
	cmd := &cobra.Command{
		Use:   "explain (pod/NAME | NAME | --pod-file FILE)",
		Short: "Say why a pod is pending, or why it landed where it did",
		Long: `Runs the scheduler's profile (our plugins and the upstream ones) over one
snapshot of the live cluster: PreFilter and Filter on every node, PreScore,
Score and NormalizeScore on the feasible ones. Prints the plugin and reason
for each rejected node (grouped), each plugin's score per feasible node, the
node the scheduler would pick now and, for a bound pod, where its node ranks.
Read-only: needs the placement-scheduler-explain ClusterRole.`,
		Example: `  kubectl placement explain pod/web-0 -n shop
  kubectl placement explain web-0 -o json
  kubectl placement explain --pod-file pod.yaml --profile placement-scheduler`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), out, f, args)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completePods(cmd.Context(), f, toComplete), cobra.ShellCompDirectiveNoFileComp
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text, json or yaml")
	fl.StringVar(&f.podFile, "pod-file", "", "explain this pod manifest instead of a pod in the cluster (\"-\" reads stdin)")
	fl.StringVar(&f.profile, "profile", "", "scheduler profile (schedulerName) to run (default: the pod's spec.schedulerName)")
	fl.StringVar(&f.config, "config", "", "KubeSchedulerConfiguration file (default: the one the scheduler deployment mounts)")
	fl.StringVar(&f.deployment, "deployment", explain.DefaultDeployment, "NAMESPACE/NAME of the scheduler deployment whose configuration to use")
	fl.IntVar(&f.top, "top", 10, "feasible nodes to list in text output; 0 lists all")
	fl.IntVar(&f.nodesPerGroup, "nodes-per-reason", 5, "node names to list per rejection reason in text output; 0 lists all")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "how long listing the cluster may take")
	root.AddCommand(cmd, newVersionCommand(out))
	return root
}

// newVersionCommand prints our release and the Kubernetes release whose
// scheduler explain runs.
func newVersionCommand(out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version and the Kubernetes version it is built on",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(out, version.String("kubectl-placement"))
			return err
		},
	}
}

func runExplain(ctx context.Context, out io.Writer, f explainFlags, args []string) error {
	if (len(args) == 1) == (f.podFile != "") {
		return fmt.Errorf("name one pod: pod/NAME, NAME or --pod-file FILE")
	}
	if f.output != "text" && f.output != "json" && f.output != "yaml" {
		return fmt.Errorf("--output %q: want text, json or yaml", f.output)
	}
	restConfig, cs, namespace, err := connect(f)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	pod, err := loadPod(ctx, cs, namespace, f.podFile, args)
	if err != nil {
		return reachable(restConfig, err)
	}
	cfg, err := loadConfig(ctx, cs, f)
	if err != nil {
		return reachable(restConfig, err)
	}
	if err := explain.CheckAccess(ctx, cs); err != nil {
		return reachable(restConfig, err)
	}
	e, err := explain.Explain(ctx, explain.Options{Client: cs, Dynamic: dyn, Config: cfg, Profile: f.profile, SyncTimeout: f.timeout}, pod)
	if noProfile := (*explain.NoProfileError)(nil); errors.As(err, &noProfile) {
		return fmt.Errorf("%w; pick one with --profile", err)
	}
	if err != nil {
		return err
	}
	return explain.Print(out, e, f.output, explain.PrintOptions{Top: f.top, NodesPerGroup: f.nodesPerGroup})
}

// reachable names the server when no server answered.
func reachable(c *rest.Config, err error) error {
	if errors.Is(err, explain.ErrUnreachable) {
		return fmt.Errorf("%w (server %s)", err, c.Host)
	}
	return err
}

// clientConfig resolves kubectl's connection flags as kubectl does: the
// kubeconfig (with exec and auth-provider credentials), overridden by flags.
func clientConfig(f explainFlags) (*rest.Config, string, error) {
	restConfig, err := f.conn.ToRESTConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	ns, _, err := f.conn.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	restConfig = rest.CopyConfig(restConfig)
	// Listing 10,000 pods and 5,000 nodes should not queue behind client-go's
	// default 5 QPS.
	restConfig.QPS, restConfig.Burst = 50, 100
	restConfig.UserAgent = "kubectl-placement"
	return restConfig, ns, nil
}

// connect builds the client the flags describe, and the namespace to use.
func connect(f explainFlags) (*rest.Config, kubernetes.Interface, string, error) {
	restConfig, namespace, err := clientConfig(f)
	if err != nil {
		return nil, nil, "", err
	}
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, nil, "", err
	}
	return restConfig, cs, namespace, nil
}

// completePods lists the names of the pods in the namespace for shell
// completion; errors complete nothing.
func completePods(ctx context.Context, f explainFlags, prefix string) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	_, cs, namespace, err := connect(f)
	if err != nil {
		return nil
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
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

func loadPod(ctx context.Context, cs kubernetes.Interface, namespace, file string, args []string) (*v1.Pod, error) {
	if file != "" {
		return podFromFile(file, namespace)
	}
	name := args[0]
	if kind, n, ok := strings.Cut(name, "/"); ok {
		if kind != "pod" && kind != "pods" && kind != "po" {
			return nil, fmt.Errorf("%q: explain takes pods, as pod/NAME or NAME", name)
		}
		name = n
	}
	pod, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, explain.Describe(err, "get", "pods", namespace, name)
	}
	return pod, nil
}

var podCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	_ = v1.AddToScheme(s)
	_ = corev1defaults.RegisterDefaults(s)
	return serializer.NewCodecFactory(s)
}()

// podFromFile reads a pod manifest and applies the API defaults the
// apiserver would (resource requests from limits, schedulerName, ...).
func podFromFile(file, namespace string) (*v1.Pod, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	obj, gvk, err := podCodecs.UniversalDecoder(v1.SchemeGroupVersion).Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return nil, fmt.Errorf("%s: a %s, not a Pod", file, gvk.Kind)
	}
	if pod.Namespace == "" {
		pod.Namespace = namespace
	}
	if pod.Name == "" {
		pod.Name = pod.GenerateName
	}
	return pod, nil
}

func loadConfig(ctx context.Context, cs kubernetes.Interface, f explainFlags) (*config.KubeSchedulerConfiguration, error) {
	if f.config != "" {
		return explain.ConfigFromFile(f.config)
	}
	ns, name, ok := strings.Cut(f.deployment, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("--deployment %q: want NAMESPACE/NAME", f.deployment)
	}
	cfg, _, err := explain.ConfigFromDeployment(ctx, cs, ns, name)
	if err != nil {
		return nil, fmt.Errorf("reading the scheduler configuration: %w (or pass --config FILE)", err)
	}
	return cfg, nil
}
