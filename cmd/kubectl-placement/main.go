// Command kubectl-placement is a kubectl plugin that runs the scheduler's own
// profile over a snapshot of the live cluster: `explain` says why a pod is
// pending or why it landed where it did, `simulate` where a workload's
// replicas would land, `capacity` how many more copies of a pod fit. It only
// reads.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	// Credential plugins a kubeconfig may name (OIDC and the others client-go
	// ships), as kubectl registers them; exec plugins need no import.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/pkg/kubectlplacement"
)

func main() {
	// The scheduler libraries log through klog; keep that off the answer
	// unless asked for with --v.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := kubectlplacement.NewCommand(os.Stdout)
	root.PersistentFlags().AddGoFlag(fs.Lookup("v"))
	var prof profiling
	prof.addFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Flags().Changed("v") {
			_ = fs.Set("logtostderr", "true")
		}
		return prof.start()
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error { return prof.stop() }
	root.SilenceUsage = true
	root.SilenceErrors = true
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
