// Command placement-sandbox is `make run`: a throw-away control plane in this
// process, placement-scheduler with the deployable configuration, a demo
// cluster and the examples from manifests/examples, and a table of where each
// pod landed. No cluster, container runtime or download is needed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/internal/sandbox"
)

// quietLogs silences klog unless a verbosity is asked for: the apiserver and
// the scheduler are chatty, and the table is what matters here.
func quietLogs(verbosity string) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if verbosity != "" {
		_ = fs.Set("v", verbosity)
		return
	}
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
}

func main() {
	keep := flag.Bool("keep", false, "keep the control plane and scheduler running after the report and print a kubeconfig for kubectl")
	timeout := flag.Duration("timeout", 0, "how long to wait for the examples to be placed (default 90s)")
	explainPods := flag.String("explain", "", "comma-separated example pods to explain after the table (pending pods always are)")
	verbosity := flag.String("log-v", "", "klog verbosity of the control plane and scheduler; empty keeps them quiet")
	flag.Parse()
	quietLogs(*verbosity)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := sandbox.Run(ctx, os.Stdout, sandbox.Options{Keep: *keep, Timeout: *timeout, Explain: splitList(*explainPods)}); err != nil {
		fmt.Fprintln(os.Stderr, "placement-sandbox:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
