package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/manifests"
)

// command is one question asked of the large cluster.
type command struct {
	name string
	args []string
}

// files the commands read, written to the output directory.
var files = map[string]string{
	"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns-000}
spec:
  replicas: 200
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      schedulerName: placement-scheduler
      containers: [{name: app, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: 100m}}}]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
`,
	"big.yaml": `apiVersion: v1
kind: Pod
metadata: {name: big, namespace: ns-000}
spec:
  schedulerName: placement-scheduler
  containers: [{name: app, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: "4"}}}]
`,
	"gpu.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: trainer, namespace: ns-000}
spec:
  replicas: 20
  selector: {matchLabels: {app: trainer}}
  template:
    metadata: {labels: {app: trainer}}
    spec:
      schedulerName: placement-scheduler
      nodeSelector: {pool: gpu}
      containers: [{name: app, image: registry.k8s.io/pause:3.10, resources: {requests: {cpu: "6"}}}]
`,
	"gpu-node.yaml": `apiVersion: v1
kind: Node
metadata:
  name: gpu
  labels: {pool: gpu, topology.kubernetes.io/zone: zone-00}
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
`,
}

// commands are every command of kubectl placement, over the shape's cluster.
func commands(s shape, dir string) []command {
	f := func(name string) string { return filepath.Join(dir, name) }
	return []command{
		{"explain a bound pod", []string{"explain", "-n", s.namespace(0), appName(0) + "-0"}},
		{"explain a pending pod", []string{"explain", "-n", "ns-000", "pending-0"}},
		{fmt.Sprintf("explain --all-pending -A (%d pods)", pendingPods), []string{"explain", "--all-pending", "-A"}},
		{"simulate 200 replicas, hostname anti-affinity", []string{"simulate", "-f", f("web.yaml")}},
		{"simulate, 100 nodes added (--add-nodes --like)", []string{"simulate", "-f", f("web.yaml"), "--add-nodes", "100", "--like", nodeName(0)}},
		{"simulate --nodes-needed (20 one-per-node replicas)", []string{"simulate", "-f", f("gpu.yaml"), "--nodes-needed", "--node-template", f("gpu-node.yaml")}},
		{"capacity of a 4-CPU pod (--max 1000)", []string{"capacity", "-f", f("big.yaml"), "--max", "1000"}},
		{"drift -A", []string{"drift", "-A"}},
		{"drift -n, one namespace", []string{"drift", "-n", s.namespace(0)}},
		// --preferred scores every node for every pod it judges: one app.
		{"drift --preferred, one app's 30 pods", []string{"drift", "-n", s.namespace(1), "-l", "app=" + appName(1), "--preferred"}},
		{"drain two nodes", []string{"drain", nodeName(1), nodeName(2)}},
	}
}

// sample is one run of one command.
type sample struct {
	wall, cpu time.Duration
	// maxRSS is the process's peak resident set.
	maxRSS int64
}

// runCommand runs the binary with args against the cluster and measures it;
// the answer goes to out, stderr (the progress line) to out + ".stderr".
func runCommand(ctx context.Context, binary, kubeconfig, config string, args []string, out string) (sample, error) {
	args = append(args, "--kubeconfig", kubeconfig, "--config", config, "--timeout", "10m")
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	peak := watchPeak(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	maxRSS := peak()
	_ = os.WriteFile(out, stdout.Bytes(), 0o644)
	_ = os.WriteFile(out+".stderr", stderr.Bytes(), 0o644)
	// drift exits 1 when it finds drifted pods it was asked to evict; it is
	// not asked to here, so any failure is one.
	if err != nil {
		return sample{}, fmt.Errorf("kubectl-placement %v: %w: %s", args, err, stderr.String())
	}
	usage := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{wall: wall, cpu: time.Duration(usage.Utime.Nano() + usage.Stime.Nano()), maxRSS: maxRSS}, nil
}

// watchPeak polls the process's VmHWM (its peak resident set since exec)
// until the returned function is called, which returns the last value read.
// The rusage of a child is no good here: Go starts children with vfork, so
// its ru_maxrss counts the parent's resident set, the whole control plane.
func watchPeak(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if hwm, ok := readHWM(pid); ok {
				peak.Store(hwm)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

// readHWM reads VmHWM from /proc/PID/status, in bytes.
func readHWM(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// measure starts the control plane, fills it and runs every command
// o.rounds times.
func measure(ctx context.Context, o options) (*report, error) {
	logger := klog.FromContext(ctx)
	cluster, err := localcluster.Start(ctx, localcluster.Options{})
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	cs, err := fastClient(cluster.Config)
	if err != nil {
		return nil, err
	}
	s := newShape(o)
	start := time.Now()
	if err := populate(ctx, cs, s); err != nil {
		return nil, err
	}
	if err := breakRules(ctx, cs, s); err != nil {
		return nil, err
	}
	r := &report{shape: s, rounds: o.rounds, populate: time.Since(start)}
	kubeconfig := filepath.Join(o.out, "admin.kubeconfig")
	if err := cluster.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	config := filepath.Join(o.out, "scheduler-config.yaml")
	if err := os.WriteFile(config, manifests.SchedulerConfig, 0o644); err != nil {
		return nil, err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(o.out, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	if o.serve {
		logger.Info("Serving; interrupt to stop", "kubeconfig", kubeconfig, "config", config)
		<-ctx.Done()
		return r, nil
	}
	cmds := commands(s, o.out)
	if !o.commands {
		cmds = nil
	}
	r.rows = make([]row, len(cmds))
	for round := range o.rounds {
		for i, c := range cmds {
			r.rows[i].command = c
			out := filepath.Join(o.out, fmt.Sprintf("command-%02d.txt", i))
			got, err := runCommand(ctx, o.binary, kubeconfig, config, c.args, out)
			if err != nil {
				return nil, err
			}
			logger.Info("Ran", "round", round+1, "command", c.name, "wall", got.wall, "cpu", got.cpu, "maxRSS", got.maxRSS)
			r.rows[i].samples = append(r.rows[i].samples, got)
		}
	}
	if o.scheduler != "" {
		if r.heap, err = measureHeap(ctx, o, s, cs, kubeconfig); err != nil {
			return nil, err
		}
		r.heapCommand = "`make scale` (`-scheduler`)"
		if !o.commands {
			r.heapCommand = "`go run ./test/scale -scheduler bin/placement-scheduler -commands=false`"
		}
	}
	return r, nil
}
