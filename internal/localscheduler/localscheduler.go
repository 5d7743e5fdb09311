// Package localscheduler runs placement-scheduler inside the current process,
// through the same command-line and configuration path as the binary, so that
// tests and the sandbox exercise what operators deploy.
package localscheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/component-base/configz"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	schedulerappconfig "k8s.io/kubernetes/cmd/kube-scheduler/app/config"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
)

// Options describe one scheduler instance.
type Options struct {
	// Kubeconfig is the path of the kubeconfig the scheduler connects with.
	Kubeconfig string
	// Config is a KubeSchedulerConfiguration; nil means the one in manifests/.
	// Its clientConnection.kubeconfig is replaced by Kubeconfig.
	Config []byte
	// LeaderElect keeps the configuration's leader election; otherwise the
	// instance schedules at once, alone.
	LeaderElect bool
	// Flags are further kube-scheduler flags, e.g. --secure-port=0 or --v=4.
	Flags []string
	// Dir receives the effective configuration file; empty means a new
	// temporary directory, removed by Stop.
	Dir string
}

// Scheduler is a running instance.
type Scheduler struct {
	cancel context.CancelFunc
	done   chan error
	dir    string
	ownDir bool
	// crashed makes the lease lock refuse writes, so that stopping does not
	// hand the lease over: the other instances must wait for it to expire.
	crashed atomic.Bool
	// identity is the leader-election identity, "" without leader election.
	identity string
}

// Start sets the scheduler up and runs it in the background. Configuration
// errors (unknown plugins, invalid args) are returned here, as the binary
// would report them at start-up.
func Start(ctx context.Context, o Options) (_ *Scheduler, err error) {
	s := &Scheduler{dir: o.Dir}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "placement-scheduler-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	defer func() {
		if err != nil && s.ownDir {
			os.RemoveAll(s.dir)
		}
	}()
	cfgPath, err := WriteConfig(s.dir, o.Config, o.Kubeconfig)
	if err != nil {
		return nil, err
	}

	if err := plugins.CheckConfigFile(klog.FromContext(ctx), cfgPath); err != nil {
		return nil, err
	}
	opts := options.NewOptions()
	fs := pflag.NewFlagSet("placement-scheduler", pflag.ContinueOnError)
	for _, set := range opts.Flags.FlagSets {
		fs.AddFlagSet(set)
	}
	args := append([]string{"--config=" + cfgPath, fmt.Sprintf("--leader-elect=%t", o.LeaderElect)}, o.Flags...)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("parsing scheduler flags: %w", err)
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	cc, sched, err := app.Setup(runCtx, opts, plugins.SchedulerOptions()...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("setting up the scheduler: %w", err)
	}
	s.cancel = cancel
	s.done = make(chan error, 1)
	if cc.LeaderElection == nil {
		go func() { s.done <- app.Run(runCtx, cc, sched) }()
	} else {
		s.identity = cc.LeaderElection.Lock.Identity()
		cc.LeaderElection.Lock = &crashableLock{Interface: cc.LeaderElection.Lock, crashed: &s.crashed}
		go func() { s.done <- runElected(runCtx, cc, sched) }()
	}
	klog.FromContext(ctx).V(2).Info("In-process placement-scheduler started", "config", cfgPath)
	return s, nil
}

// runElected runs the scheduler only while it holds the configured lease.
// app.Run would do the same but ends the whole process when leadership ends,
// which is right for the binary and wrong for a test that stops one instance
// of several; so the election is held here, with the same lock and timings,
// and app.Run runs the leader's term without an election of its own.
func runElected(ctx context.Context, cc *schedulerappconfig.CompletedConfig, sched *scheduler.Scheduler) error {
	lec := *cc.LeaderElection
	cc.LeaderElection = nil
	cc.ComponentConfig.LeaderElection.LeaderElect = false
	led, term := make(chan struct{}), make(chan error, 1)
	lec.ReleaseOnCancel = true
	lec.Callbacks = leaderelection.LeaderCallbacks{
		OnStartedLeading: func(ctx context.Context) {
			close(led)
			term <- app.Run(ctx, cc, sched)
		},
		OnStoppedLeading: func() {},
	}
	elector, err := leaderelection.NewLeaderElector(lec)
	if err != nil {
		return fmt.Errorf("creating leader elector: %w", err)
	}
	elector.Run(ctx)
	select {
	case <-led:
		return <-term
	default:
		return errors.New("stopped without leading")
	}
}

// WriteConfig stores a KubeSchedulerConfiguration (nil: the one in
// manifests/) in dir with its clientConnection.kubeconfig set to kubeconfig,
// and returns the file's path. Nothing else is changed.
func WriteConfig(dir string, raw []byte, kubeconfig string) (string, error) {
	if raw == nil {
		raw = manifests.SchedulerConfig
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("reading scheduler configuration: %w", err)
	}
	if doc == nil {
		return "", errors.New("scheduler configuration is empty")
	}
	conn, _ := doc["clientConnection"].(map[string]any)
	if conn == nil {
		conn = map[string]any{}
	}
	conn["kubeconfig"] = kubeconfig
	doc["clientConnection"] = conn
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "scheduler-config.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// Identity is the instance's leader-election identity ("" without election),
// as the Lease's holderIdentity names it.
func (s *Scheduler) Identity() string { return s.identity }

// Crash stops the instance the way a killed process stops: it keeps the
// lease it holds, which the others may take only once it expires.
func (s *Scheduler) Crash() {
	s.crashed.Store(true)
	s.Stop()
}

// crashableLock is a lease lock that refuses every write once crashed is set.
type crashableLock struct {
	resourcelock.Interface
	crashed *atomic.Bool
}

var errCrashed = errors.New("instance crashed")

func (l *crashableLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	if l.crashed.Load() {
		return errCrashed
	}
	return l.Interface.Create(ctx, ler)
}

func (l *crashableLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	if l.crashed.Load() {
		return errCrashed
	}
	return l.Interface.Update(ctx, ler)
}

// Done delivers, once the scheduler stopped, the error it stopped with.
func (s *Scheduler) Done() <-chan error { return s.done }

// Stop ends the scheduler and waits for it.
func (s *Scheduler) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		// app.Run reports a normal shutdown as an error; keep it for Done.
		s.done <- err
	}
	s.cancel = nil
	// The configz registry is process-global; free the name for the next instance.
	configz.Delete("componentconfig")
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}
