// Command scale runs every `kubectl placement` command against the
// in-process control plane holding a large cluster (by default 5,000 nodes
// and 150,000 pods), as a separate process each, and reports each command's
// wall time, CPU time and peak memory (the child's maximum resident set) as
// Markdown: docs/scale.md is one such report. It is run by hand (`make
// scale`); its test runs it on a small cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	var o options
	flag.StringVar(&o.binary, "kubectl-placement", "bin/kubectl-placement", "the kubectl-placement binary to measure")
	flag.StringVar(&o.scheduler, "scheduler", "", "also measure this placement-scheduler binary's heap with decision recording on and off (empty: do not)")
	flag.BoolVar(&o.commands, "commands", true, "measure the kubectl-placement commands (false: only the scheduler's heap)")
	flag.IntVar(&o.nodes, "nodes", 5000, "nodes in the cluster")
	flag.IntVar(&o.podsPerNode, "pods-per-node", 30, "bound pods on each node")
	flag.IntVar(&o.rounds, "rounds", 3, "times each command runs; the report gives medians")
	flag.StringVar(&o.out, "out", "_output/scale", "directory for the report (scale.md) and each command's output")
	flag.StringVar(&o.report, "report", "", "also write the Markdown report here (e.g. docs/scale.md)")
	flag.BoolVar(&o.serve, "serve", false, "fill the cluster, write OUT/admin.kubeconfig and serve it until interrupted, measuring nothing (to profile by hand)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

type options struct {
	binary, scheduler  string
	nodes, podsPerNode int
	rounds             int
	commands           bool
	out, report        string
	serve              bool
}

func run(ctx context.Context, o options) error {
	binary, err := filepath.Abs(o.binary)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("the kubectl-placement binary: %w (make kubectl-plugin builds it)", err)
	}
	o.binary = binary
	if o.scheduler != "" {
		if o.scheduler, err = filepath.Abs(o.scheduler); err != nil {
			return err
		}
		if _, err := os.Stat(o.scheduler); err != nil {
			return fmt.Errorf("the scheduler binary: %w (make scheduler builds it)", err)
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	r, err := measure(ctx, o)
	if err != nil {
		return err
	}
	md := r.markdown()
	if err := os.WriteFile(filepath.Join(o.out, "scale.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if o.report != "" {
		if err := os.WriteFile(o.report, []byte(md), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md)
	return nil
}
