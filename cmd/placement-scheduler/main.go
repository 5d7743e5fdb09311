// Command placement-scheduler is kube-scheduler with placement-scheduler's
// plugins registered. Every kube-scheduler flag works as upstream documents it;
// which plugins run is decided by the --config file's profiles.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	// The same registrations as upstream's cmd/kube-scheduler main, so every
	// upstream flag and metric works here too (TestRegistrationsMatchUpstream):
	// --logging-format=json, client-go's rest_client_* and leader_election_*
	// metrics, and kubernetes_build_info.
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
)

func main() {
	os.Exit(cli.Run(newCommand()))
}
