package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/cache"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/term"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
	"github.com/kube-placement/placement-scheduler/pkg/version"
)

// newCommand is kube-scheduler's command with upstream's flags, help and
// start-up, plus what is ours: --version names our release too, the
// configuration is checked for mistakes upstream lets through, and the
// decisions of the profiles that enable PlacementDecisions are recorded.
// It is built here rather than taken from app.NewSchedulerCommand because
// recording needs the scheduler between app.Setup and app.Run, which that
// command does not expose (TestFlagsMatchUpstream keeps the flags equal).
func newCommand() *cobra.Command {
	opts := options.NewOptions()
	cmd := &cobra.Command{
		Use:   "placement-scheduler",
		Short: "Kubernetes scheduler with placement-scheduler's plugins",
		Long: `placement-scheduler is kube-scheduler with placement-scheduler's plugins
registered. It schedules the pods whose spec.schedulerName names one of the
profiles of its --config file, beside the default scheduler.`,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			// Feature gates are set before RunE, as upstream does.
			return opts.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error { return run(c, opts) },
		Args: func(c *cobra.Command, args []string) error {
			for _, arg := range args {
				if arg != "" {
					return fmt.Errorf("%q does not take any arguments, got %q", c.CommandPath(), args)
				}
			}
			return nil
		},
	}
	nfs := opts.Flags
	verflag.AddFlags(nfs.FlagSet("global"))
	globalflag.AddGlobalFlags(nfs.FlagSet("global"), cmd.Name(), logs.SkipLoggingConfigurationFlags())
	for _, fs := range nfs.FlagSets {
		cmd.Flags().AddFlagSet(fs)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, *nfs, cols)
	if err := cmd.MarkFlagFilename("config", "yaml", "yml", "json"); err != nil {
		klog.Background().Error(err, "Failed to mark flag filename")
	}
	return cmd
}

// run starts the scheduler as upstream's command does, with the recording
// attached. On SIGTERM the decision writers write what they hold (a few
// seconds at most) before scheduling stops: with leader election, upstream's
// app.Run ends the process as soon as its context ends.
func run(c *cobra.Command, opts *options.Options) error {
	// Upstream's --version names only the Kubernetes release; operators also
	// need ours, so --version is answered here.
	if f := c.Flags().Lookup("version"); f != nil && f.Changed && f.Value.String() != "false" {
		fmt.Fprintln(c.OutOrStdout(), version.String("placement-scheduler"))
		return nil
	}
	if f := c.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		if err := plugins.CheckConfigFile(klog.Background(), f.Value.String()); err != nil {
			return err
		}
	}
	fg := opts.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(opts.Logs, fg); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
	cliflag.PrintFlags(c.Flags())
	if opts.InformerName == nil {
		name, err := cache.NewInformerName("kube-scheduler")
		if err != nil {
			return err
		}
		opts.InformerName = name
	}

	signalled := server.SetupSignalContext()
	ctx, stopScheduling := context.WithCancel(context.Background())
	defer stopScheduling()
	cc, sched, err := app.Setup(ctx, opts, plugins.SchedulerOptions(nil)...)
	if err != nil {
		return err
	}
	recording, err := decisions.Attach(signalled, cc, sched)
	if err != nil {
		return err
	}
	go func() {
		<-signalled.Done()
		recording.Wait()
		stopScheduling()
	}()
	fg.(featuregate.MutableFeatureGate).AddMetrics()
	opts.ComponentGlobalsRegistry.AddMetrics()
	return app.Run(ctx, cc, sched)
}
