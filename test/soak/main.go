// Command soak runs the built placement-scheduler binary for hours against
// the in-process control plane under churn — Deployments scaling, StatefulSets
// rolling, node labels and taints changing — with a fault from the fault tests
// every few minutes, and samples the scheduler's memory, goroutines and
// PlacementPodAffinity's index every minute. It writes the samples as CSV and
// a Markdown report with charts (docs/soak.md is one). It is run by hand
// (`make soak`), not by `make test`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.scheduler, "scheduler", "bin/placement-scheduler", "the placement-scheduler binary to run")
	flag.DurationVar(&o.duration, "duration", 2*time.Hour, "how long the churn runs")
	flag.DurationVar(&o.faultEvery, "fault-every", 5*time.Minute, "time between faults (0: none)")
	flag.DurationVar(&o.sampleEvery, "sample-every", time.Minute, "time between samples")
	flag.IntVar(&o.nodes, "nodes", 40, "nodes in the cluster")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the churn's choices")
	flag.StringVar(&o.out, "out", "_output/soak", "directory for the samples (soak.csv), the scheduler's log and the report")
	flag.StringVar(&o.report, "report", "", "also write the Markdown report here (e.g. docs/soak.md)")
	flag.BoolVar(&o.collide, "collide", false, "roll StatefulSets as faults cut the scheduler's watch (kube-scheduler exits: docs/faults.md)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	scheduler                         string
	duration, faultEvery, sampleEvery time.Duration
	nodes                             int
	seed                              int64
	out, report                       string
	collide                           bool
}

func run(ctx context.Context, o options) error {
	scheduler, err := filepath.Abs(o.scheduler)
	if err != nil {
		return err
	}
	if _, err := os.Stat(scheduler); err != nil {
		return fmt.Errorf("the scheduler binary: %w (make scheduler builds it)", err)
	}
	o.scheduler = scheduler
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	s, err := start(ctx, o)
	if err != nil {
		return err
	}
	defer s.stop()
	result, err := s.soak(ctx)
	if err != nil {
		return err
	}
	md := result.markdown()
	if err := os.WriteFile(filepath.Join(o.out, "soak.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if o.report != "" {
		if err := os.WriteFile(o.report, []byte(md), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(result.summary())
	if result.doubleBinds > 0 {
		return fmt.Errorf("%d pods were bound twice", result.doubleBinds)
	}
	return nil
}
