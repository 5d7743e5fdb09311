// Package kubectlplacement is the kubectl-placement plugin's command line:
// explain, simulate, capacity, drift, drain, decisions and version, with kubectl's own connection
// flags, -f handling and output formats.
package kubectlplacement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/version"
)

// common are the flags every command that reads the cluster shares. The
// connection flags are kubectl's own (genericclioptions): --kubeconfig,
// --context, -n, --server, --token, --as, --request-timeout, ...
type common struct {
	conn               *genericclioptions.ConfigFlags
	output, profile    string
	config, deployment string
	timeout            time.Duration
	// progress gets the listing's progress line (standard error).
	progress io.Writer
}

func (c *common) addFlags(fl *pflag.FlagSet) {
	fl.StringVarP(&c.output, "output", "o", "text", "output format: "+strings.Join(Formats, ", ")+" (docs/output.md describes the JSON)")
	fl.StringVar(&c.profile, "profile", "", "scheduler profile (schedulerName) to run (default: each pod's spec.schedulerName)")
	fl.StringVar(&c.config, "config", "", "KubeSchedulerConfiguration file (default: the one the scheduler deployment mounts)")
	fl.StringVar(&c.deployment, "deployment", explain.DefaultDeployment, "NAMESPACE/NAME of the scheduler deployment whose configuration to use")
	fl.DurationVar(&c.timeout, "timeout", time.Minute, "how long listing the cluster may take")
}

func (c *common) checkOutput() error {
	for _, f := range Formats {
		if c.output == f {
			return nil
		}
	}
	return fmt.Errorf("--output %q: want one of %s", c.output, strings.Join(Formats, ", "))
}

// NewCommand returns `kubectl placement` writing answers to out, with
// kubectl's connection flags.
func NewCommand(out io.Writer) *cobra.Command {
	return NewCommandWithFlags(out, genericclioptions.NewConfigFlags(true))
}

// NewCommandWithFlags is NewCommand with the caller's connection flags (to
// wrap the transport, say).
func NewCommandWithFlags(out io.Writer, conn *genericclioptions.ConfigFlags) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-placement",
		Short: "Ask placement-scheduler's profile where pods would go, and why",
	}
	conn.AddFlags(root.PersistentFlags())
	root.AddCommand(newExplainCommand(out, conn), newSimulateCommand(out, conn), newCapacityCommand(out, conn), newDriftCommand(out, conn), newDrainCommand(out, conn), newDecisionsCommand(out, conn), newVersionCommand(out))
	return root
}

// newVersionCommand prints our release and the Kubernetes release whose
// scheduler the commands run.
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

// clusterClient is what a command needs to read the cluster.
type clusterClient struct {
	rest      *rest.Config
	cs        kubernetes.Interface
	dyn       dynamic.Interface
	namespace string
	// explicitNamespace is true when -n was given.
	explicitNamespace bool
}

// clientConfig resolves kubectl's connection flags as kubectl does: the
// kubeconfig (with exec and auth-provider credentials), overridden by flags.
func clientConfig(conn *genericclioptions.ConfigFlags) (*rest.Config, string, bool, error) {
	restConfig, err := conn.ToRESTConfig()
	if err != nil {
		return nil, "", false, fmt.Errorf("loading kubeconfig: %w", err)
	}
	ns, explicit, err := conn.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", false, fmt.Errorf("loading kubeconfig: %w", err)
	}
	restConfig = rest.CopyConfig(restConfig)
	// Listing 10,000 pods and 5,000 nodes should not queue behind client-go's
	// default 5 QPS.
	restConfig.QPS, restConfig.Burst = 50, 100
	restConfig.UserAgent = "kubectl-placement"
	return restConfig, ns, explicit, nil
}

// connect builds the clients the flags describe.
func connect(conn *genericclioptions.ConfigFlags) (*clusterClient, error) {
	restConfig, namespace, explicit, err := clientConfig(conn)
	if err != nil {
		return nil, err
	}
	// Built-in types in protobuf, as kubectl asks for them: smaller and
	// quicker to decode than JSON when listing 150,000 pods. The dynamic
	// client reads JSON only.
	typed := rest.CopyConfig(restConfig)
	typed.ContentType = runtime.ContentTypeProtobuf
	typed.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cs, err := kubernetes.NewForConfig(typed)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	return &clusterClient{rest: restConfig, cs: cs, dyn: dyn, namespace: namespace, explicitNamespace: explicit}, nil
}

// reachable names the server when no server answered.
func (c *clusterClient) reachable(err error) error {
	if errors.Is(err, explain.ErrUnreachable) {
		return fmt.Errorf("%w (server %s)", err, c.rest.Host)
	}
	return err
}

// open reads the scheduler's configuration, checks the caller may read
// what the scheduler reads, and lists the cluster into a session.
func (c *clusterClient) open(ctx context.Context, f *common) (*explain.Session, error) {
	return c.openWith(ctx, f, explain.Options{})
}

// openWith is open with the session options a command adds (Drift).
func (c *clusterClient) openWith(ctx context.Context, f *common, o explain.Options) (*explain.Session, error) {
	cfg, err := loadConfig(ctx, c.cs, f)
	if err != nil {
		return nil, c.reachable(err)
	}
	if err := explain.CheckAccess(ctx, c.cs); err != nil {
		return nil, c.reachable(err)
	}
	o.Client, o.Dynamic, o.Config, o.Profile, o.SyncTimeout = c.cs, c.dyn, cfg, f.profile, f.timeout
	if f.progress != nil {
		o.Progress = printProgress(f.progress)
	}
	s, err := explain.Open(ctx, o)
	return s, withProfileHint(err)
}

// printProgress writes a line for each report of a slow listing, as
// kubectl's long operations do on standard error.
func printProgress(w io.Writer) func(explain.SyncProgress) {
	return func(p explain.SyncProgress) {
		elapsed := p.Elapsed.Round(100 * time.Millisecond)
		switch {
		case p.Done:
			fmt.Fprintf(w, "Listed the cluster in %v.\n", elapsed)
		case len(p.Waiting) > 0:
			fmt.Fprintf(w, "Listing the cluster (%v): waiting for %s\n", elapsed, strings.Join(p.Waiting, ", "))
		default:
			fmt.Fprintf(w, "Listing the cluster (%v): filling the scheduler cache\n", elapsed)
		}
	}
}

// withProfileHint tells how to choose a profile when the pod's is missing.
func withProfileHint(err error) error {
	if noProfile := (*explain.NoProfileError)(nil); errors.As(err, &noProfile) {
		return fmt.Errorf("%w; pick one with --profile", err)
	}
	return err
}

func loadConfig(ctx context.Context, cs kubernetes.Interface, f *common) (*config.KubeSchedulerConfiguration, error) {
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
