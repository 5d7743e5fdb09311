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
	"sync"
	"sync/atomic"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/component-base/configz"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	schedulerappconfig "k8s.io/kubernetes/cmd/kube-scheduler/app/config"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
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
	// Plugins replace the factories of plugins of ours by name (tests wrap
	// a plugin this way); nil keeps them all.
	Plugins frameworkruntime.Registry
	// DecisionStore keeps the decision records; nil means the API server.
	DecisionStore decision.Store
}

// Scheduler is a running instance.
type Scheduler struct {
	cancel context.CancelFunc
	// done is closed once the scheduler stopped, err then says why.
	done   chan struct{}
	err    error
	dir    string
	ownDir bool
	// crashed makes the lease lock refuse writes, so that stopping does not
	// hand the lease over: the other instances must wait for it to expire.
	crashed atomic.Bool
	// identity is the leader-election identity, "" without leader election.
	identity string
	// recording writes the decision records.
	recording *decisions.Recording
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
	cc, sched, err := app.Setup(runCtx, opts, plugins.SchedulerOptions(o.Plugins)...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("setting up the scheduler: %w", err)
	}
	recording, err := decisions.AttachTo(runCtx, cc, sched, o.DecisionStore)
	if err != nil {
		cancel()
		return nil, err
	}
	s.cancel = cancel
	s.recording = recording
	s.done = make(chan struct{})
	run := func() error { return app.Run(runCtx, cc, sched) }
	if cc.LeaderElection != nil {
		s.identity = cc.LeaderElection.Lock.Identity()
		cc.LeaderElection.Lock = &crashableLock{Interface: cc.LeaderElection.Lock, crashed: &s.crashed}
		run = func() error { return runElected(runCtx, cc, sched) }
	}
	go func() {
		defer close(s.done)
		s.err = run()
		// The decision writers stop with runCtx (also when the lease was
		// lost), after writing what they hold.
		cancel()
		recording.Wait()
	}()
	klog.FromContext(ctx).V(2).Info("In-process placement-scheduler started", "config", cfgPath)
	return s, nil
}

// runElected runs the scheduler only while it holds the configured lease.
// app.Run would do the same but ends the whole process when leadership ends,
// which is right for the binary and wrong for a test that stops one instance
// of several; so the election is held here, with the same lock and timings,
// and app.Run runs the leader's term without an election of its own. When
// the term ends (the lease lost, or app.Run failed) the instance stops, as
// the binary would exit.
func runElected(ctx context.Context, cc *schedulerappconfig.CompletedConfig, sched *scheduler.Scheduler) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	lec := *cc.LeaderElection
	cc.LeaderElection = nil
	cc.ComponentConfig.LeaderElection.LeaderElect = false
	led, term := make(chan struct{}), make(chan error, 1)
	lec.ReleaseOnCancel = true
	lec.Callbacks = leaderelection.LeaderCallbacks{
		OnStartedLeading: func(ctx context.Context) {
			close(led)
			// app.Run registers the process-global configz name; an old
			// leader cut off from the apiserver may still hold it (it stops
			// only at its renew deadline, while the lease already expired),
			// and a second registration fails app.Run. Separate processes
			// do not share it, so terms are serialized here.
			term <- leaderTerm(ctx, func(ctx context.Context) error { return app.Run(ctx, cc, sched) })
			stop()
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

// configzTerm is held by the instance whose app.Run has the process-global
// configz name registered.
var configzTerm sync.Mutex

// leaderTerm runs one leader's term once the previous term in this process
// has ended, and frees the configz name after it.
func leaderTerm(ctx context.Context, run func(context.Context) error) error {
	configzTerm.Lock()
	defer configzTerm.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	err := run(ctx)
	configz.Delete("componentconfig")
	return err
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

// DropMultiPointPlugin takes the plugin out of the multiPoint set of a
// profile decoded from KubeSchedulerConfiguration YAML: the harnesses
// compare the deployable profile with and without PlacementDecisions.
func DropMultiPointPlugin(profile map[string]any, name string) {
	plugins, _ := profile["plugins"].(map[string]any)
	mp, _ := plugins["multiPoint"].(map[string]any)
	enabled, _ := mp["enabled"].([]any)
	var kept []any
	for _, p := range enabled {
		if pl, _ := p.(map[string]any); pl["name"] != name {
			kept = append(kept, p)
		}
	}
	if mp != nil {
		mp["enabled"] = kept
	}
}

// Identity is the instance's leader-election identity ("" without election),
// as the Lease's holderIdentity names it.
func (s *Scheduler) Identity() string { return s.identity }

// Crash stops the instance the way a killed process stops: it keeps the
// lease it holds, which the others may take only once it expires, and the
// decision records it had not written are lost (Unwritten counts them).
func (s *Scheduler) Crash() {
	s.crashed.Store(true)
	if s.recording != nil {
		s.recording.Abandon()
	}
	s.Stop()
}

// Unwritten lists the pods of the records the instance holds unwritten of
// attempts that may have bound their pod: after a crash, those it lost (its
// binding cycles still under way when it died included, once they ended,
// whether or not it saw their bind succeed).
func (s *Scheduler) Unwritten() []types.UID {
	if s.recording == nil {
		return nil
	}
	return s.recording.Unwritten()
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

// Done is closed once the scheduler stopped: on Stop, or when it lost its
// lease (the binary would exit then). Err says why.
func (s *Scheduler) Done() <-chan struct{} { return s.done }

// Err is the error the scheduler stopped with, once Done is closed
// (app.Run reports a normal shutdown as an error too).
func (s *Scheduler) Err() error {
	<-s.done
	return s.err
}

// Stop ends the scheduler and waits for it.
func (s *Scheduler) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
	// The configz registry is process-global; free the name for the next instance.
	configz.Delete("componentconfig")
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
}
