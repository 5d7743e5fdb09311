// Package schedulerprocess runs the placement-scheduler binary as a
// Deployment would run it (a configuration file, leader election, restarted
// when it exits, as the kubelet would) and reads what an operator reads of
// it: /metrics and its resident set. The soak and the scale harness share it.
package schedulerprocess

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
)

// Process is the scheduler binary, run as a Deployment would run it (the
// given configuration, leader election as it says), and started again if it
// exits, as the kubelet would: each start is counted.
type Process struct {
	binary, dir, config string
	port                int
	log                 *os.File

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	starts   int
	stopping bool
	done     chan struct{}
}

// Start runs binary with config (nil: the one in manifests/) pointed at
// kubeconfig; dir takes the configuration file and the log, scheduler.log.
// It is started again when it exits until ctx ends or Stop is called.
func Start(ctx context.Context, binary, dir, kubeconfig string, config []byte) (*Process, error) {
	path, err := localscheduler.WriteConfig(dir, config, kubeconfig)
	if err != nil {
		return nil, err
	}
	ports, err := localcluster.FreePorts(1)
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "scheduler.log"))
	if err != nil {
		return nil, err
	}
	p := &Process{binary: binary, dir: dir, config: path, port: ports[0], log: log, done: make(chan struct{})}
	if err := p.start(); err != nil {
		return nil, err
	}
	go p.supervise(ctx)
	return p, nil
}

func (p *Process) start() error {
	cmd := exec.Command(p.binary,
		"--config="+p.config,
		"--v=2",
		fmt.Sprintf("--secure-port=%d", p.port),
		"--bind-address=127.0.0.1",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
	)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	return nil
}

// supervise starts the binary again a second after it exits, until ctx ends.
func (p *Process) supervise(ctx context.Context) {
	defer close(p.done)
	for {
		p.mu.Lock()
		exited, cmd := p.exited, p.cmd
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if stopping {
			return
		}
		klog.FromContext(ctx).Info("The scheduler exited; starting it again", "state", cmd.ProcessState.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if err := p.start(); err != nil {
			klog.FromContext(ctx).Error(err, "Starting the scheduler again")
		}
	}
}

// Restarts is how many times the binary was started again.
func (p *Process) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts - 1
}

// Stop sends SIGTERM and waits for the exit, killing after 30 s.
func (p *Process) Stop() {
	p.mu.Lock()
	p.stopping = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	p.log.Close()
}

// RSS is the process's resident set in bytes, from /proc.
func (p *Process) RSS() (int64, error) {
	p.mu.Lock()
	pid := p.cmd.Process.Pid
	p.mu.Unlock()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

var scrapeClient = &http.Client{
	Timeout: 10 * time.Second,
	// The secure port serves a self-signed certificate.
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback, self-signed
}

// Metrics scrapes the binary's /metrics.
func (p *Process) Metrics(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/metrics", p.port), nil)
	if err != nil {
		return "", err
	}
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("/metrics answered %s", resp.Status)
	}
	return string(body), err
}
