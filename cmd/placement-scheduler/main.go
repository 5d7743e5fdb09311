// Command placement-scheduler is kube-scheduler with placement-scheduler's
// plugins registered. Every kube-scheduler flag works as upstream documents it;
// which plugins run is decided by the --config file's profiles.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"

	// The same registrations as upstream's cmd/kube-scheduler main, so every
	// upstream flag and metric works here too (TestRegistrationsMatchUpstream):
	// --logging-format=json, client-go's rest_client_* and leader_election_*
	// metrics, and kubernetes_build_info.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/version"
)

func main() {
	os.Exit(cli.Run(newCommand()))
}

func newCommand() *cobra.Command {
	cmd := app.NewSchedulerCommand(plugins.SchedulerOptions(nil)...)
	cmd.Use = "placement-scheduler"
	cmd.Short = "Kubernetes scheduler with placement-scheduler's plugins"
	// Upstream's --version names only the Kubernetes release; operators also
	// need ours, so --version is answered here before upstream sees it. The
	// configuration is checked here too, for mistakes upstream lets through.
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if f := c.Flags().Lookup("version"); f != nil && f.Changed && f.Value.String() != "false" {
			fmt.Fprintln(c.OutOrStdout(), version.String("placement-scheduler"))
			return nil
		}
		if f := c.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
			if err := plugins.CheckConfigFile(klog.Background(), f.Value.String()); err != nil {
				return err
			}
		}
		return run(c, args)
	}
	return cmd
}
