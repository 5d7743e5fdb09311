package explain

import (
	"context"
	"fmt"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/profile"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
)

// Options say what to explain against.
type Options struct {
	// Client reads the cluster; explain never writes.
	Client kubernetes.Interface
	// Dynamic serves informers for custom resources some plugins watch; may
	// be nil when no plugin of the profile needs one.
	Dynamic dynamic.Interface
	// Config is the scheduler configuration (defaulted and validated).
	Config *config.KubeSchedulerConfiguration
	// Profile is the schedulerName of the profile to run; empty means the
	// pod's own spec.schedulerName.
	Profile string
	// SyncTimeout bounds listing the cluster; 0 means one minute.
	SyncTimeout time.Duration
	// Progress, when set, is told every ProgressEvery how listing goes, from
	// ProgressEvery on, and once more when it is done if it was told before:
	// a quick listing says nothing.
	Progress func(SyncProgress)
	// Drift builds what Session.Drift needs: a one-plugin profile per
	// placement plugin of each profile, and upstream's default profile when
	// the configuration has no default-scheduler.
	Drift bool
	// NoPreemption keeps simulate and capacity from running the profile's
	// preemption for a pod that fits nowhere, as a profile without
	// DefaultPreemption would.
	NoPreemption bool
}

// Session is one listing of the cluster into the cache of a scheduler that
// is never run, with every profile of the configuration, as kube-scheduler
// keeps one cache for all its profiles. Explain reads it; Place adds to it
// the pods it places, so that each later pod meets the earlier ones. Its
// methods are not safe for concurrent use.
type Session struct {
	c *cluster
	// profile overrides the pods' spec.schedulerName when set.
	profile string
	// stop ends the goroutines the scheduler started.
	stop context.CancelFunc
	// profiles are those the scheduler was built with.
	profiles []config.KubeSchedulerProfile
	// addedDefault: opened with Options.Drift, and upstream's default
	// profile was added for it.
	addedDefault bool
	// noPreemption is Options.NoPreemption; evaluators are the profiles'
	// preemption, built when first needed (nil for a profile without).
	noPreemption bool
	evaluators   map[string]*preemption.Evaluator
	// undo reverses, newest first, what AddNodes and Simulate changed in
	// the cache since Mark; nil when not marked.
	undo []func()
}

// Open lists the cluster into a new scheduler cache and stops watching: the
// session answers for that moment. Close it when done.
func Open(ctx context.Context, o Options) (*Session, error) {
	if o.Profile != "" {
		if _, err := Profile(o.Config, o.Profile); err != nil {
			return nil, err
		}
	}
	// The scheduler's background work (its queue's and metrics' goroutines)
	// lives as long as this context.
	ctx, stop := context.WithCancel(ctx)
	s := &Session{profile: o.Profile, stop: stop, profiles: o.Config.Profiles,
		noPreemption: o.NoPreemption, evaluators: map[string]*preemption.Evaluator{}}
	if o.Drift {
		var err error
		if s.profiles, s.addedDefault, err = withDefaultProfile(o.Config.Profiles); err != nil {
			stop()
			return nil, err
		}
	}
	c, err := newCluster(ctx, o, s.profiles)
	if err != nil {
		stop()
		return nil, err
	}
	if err := c.sync(ctx, o.SyncTimeout, o.Progress); err != nil {
		stop()
		return nil, err
	}
	s.c = c
	return s, nil
}

// Close stops what the session's scheduler started; the session must not be
// used after.
func (s *Session) Close() {
	s.stop()
}

// framework returns the profile that schedules pod.
func (s *Session) framework(pod *v1.Pod) (framework.Framework, error) {
	name := s.profile
	if name == "" {
		name = pod.Spec.SchedulerName
	}
	f, ok := s.c.sched.Profiles[name]
	if !ok {
		var names []string
		for n := range s.c.sched.Profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, &NoProfileError{Name: name, Profiles: names}
	}
	return f, nil
}

// quiet keeps the scheduler's and plugins' klog output out of the answer.
func quiet(ctx context.Context) context.Context {
	return klog.NewContext(ctx, klog.FromContext(ctx).V(4))
}

// cluster is a scheduler that is never run: its cache, filled by its own
// informers, is the source of the snapshot.
type cluster struct {
	sched    *scheduler.Scheduler
	snapshot *internalcache.Snapshot
	factory  informers.SharedInformerFactory
	dynamic  dynamicinformer.DynamicSharedInformerFactory
	// drift holds, with Options.Drift, the one-plugin profiles that judge
	// running pods (see driftProfiles), reading view.
	drift profile.Map
	view  *driftView
	// wideDrift has drift judge every pod over the whole snapshot, as it
	// does pods with required affinity: tests compare the two.
	wideDrift bool
}

func newCluster(ctx context.Context, o Options, profiles []config.KubeSchedulerProfile) (*cluster, error) {
	c := &cluster{
		snapshot: internalcache.NewEmptySnapshot(),
		factory:  scheduler.NewInformerFactory(o.Client, 0, nil),
	}
	if o.Dynamic != nil {
		c.dynamic = dynamicinformer.NewDynamicSharedInformerFactory(o.Dynamic, 0)
	}
	var err error
	c.sched, err = scheduler.New(ctx, o.Client, c.factory, c.dynamic, discardEvents,
		scheduler.WithProfiles(profiles...),
		scheduler.WithPercentageOfNodesToScore(o.Config.PercentageOfNodesToScore),
		scheduler.WithFrameworkOutOfTreeRegistry(plugins.Registry()),
		scheduler.WithNodeInfoSnapshot(c.snapshot),
		scheduler.WithParallelism(o.Config.Parallelism),
	)
	if err != nil {
		return nil, fmt.Errorf("building the scheduler's profiles: %w", err)
	}
	if o.Drift {
		if err := c.buildDrift(ctx, o, profiles); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// buildDrift builds the drift profiles of profiles over their own view of
// the snapshot, with the scheduler's plugins and informers.
func (c *cluster) buildDrift(ctx context.Context, o Options, profiles []config.KubeSchedulerProfile) error {
	registry := frameworkplugins.NewInTreeRegistry()
	if err := registry.Merge(plugins.Registry()); err != nil {
		return err
	}
	c.view = newDriftView(c.snapshot)
	var err error
	c.drift, err = profile.NewMap(ctx, driftProfiles(profiles), registry, discardEvents,
		frameworkruntime.WithClientSet(o.Client),
		frameworkruntime.WithInformerFactory(c.factory),
		frameworkruntime.WithSnapshotSharedLister(c.view),
		frameworkruntime.WithParallelism(int(o.Config.Parallelism)),
	)
	if err != nil {
		return fmt.Errorf("building the drift profiles: %w", err)
	}
	return nil
}

// sync lists everything the profile's plugins watch into the scheduler's
// cache, then stops watching: explain answers for one moment.
func (c *cluster) sync(ctx context.Context, timeout time.Duration, progress func(SyncProgress)) error {
	if timeout == 0 {
		timeout = time.Minute
	}
	informerCtx, stop := context.WithCancel(ctx)
	// Shutdown waits for the informers, so they must be told to stop first.
	defer c.shutdown(stop)
	c.factory.Start(informerCtx.Done())
	if c.dynamic != nil {
		c.dynamic.Start(informerCtx.Done())
	}
	defer c.watchProgress(progress)()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if missing := c.unsynced(waitCtx); len(missing) > 0 {
		return &SyncTimeoutError{Timeout: timeout, Missing: missing}
	}
	if err := c.sched.WaitForHandlersSync(waitCtx); err != nil {
		return fmt.Errorf("filling the scheduler cache: %w", err)
	}
	return nil
}

// unsynced waits until every informer has listed or ctx is done, and names
// those that have not, sorted. With ctx done already it does not wait.
func (c *cluster) unsynced(ctx context.Context) []string {
	var missing []string
	for typ, ok := range c.factory.WaitForCacheSyncWithContext(ctx).Synced {
		if !ok {
			missing = append(missing, typ.String())
		}
	}
	if c.dynamic != nil {
		for gvr, ok := range c.dynamic.WaitForCacheSync(ctx.Done()) {
			if !ok {
				missing = append(missing, gvr.String())
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// ProgressEvery is how often Options.Progress hears how listing goes.
const ProgressEvery = 2 * time.Second

// SyncProgress is how far listing the cluster has come.
type SyncProgress struct {
	Elapsed time.Duration
	// Waiting names the resources not listed yet (as SyncTimeoutError
	// does); empty once all are, while the scheduler's cache is filled.
	Waiting []string
	// Done is set on the last report, when listing has finished.
	Done bool
}

// watchProgress reports to progress while listing runs (see
// Options.Progress); the function it returns ends the reports.
func (c *cluster) watchProgress(progress func(SyncProgress)) (done func()) {
	if progress == nil {
		return func() {}
	}
	start := time.Now()
	stop, stopped := make(chan struct{}), make(chan struct{})
	reported := false
	go func() {
		defer close(stopped)
		tick := time.NewTicker(ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				now, cancel := context.WithCancel(context.Background())
				cancel()
				progress(SyncProgress{Elapsed: time.Since(start), Waiting: c.unsynced(now)})
				reported = true
			}
		}
	}()
	return func() {
		close(stop)
		<-stopped
		if reported {
			progress(SyncProgress{Elapsed: time.Since(start), Done: true})
		}
	}
}

func (c *cluster) shutdown(stop context.CancelFunc) {
	stop()
	c.factory.Shutdown()
	if c.dynamic != nil {
		c.dynamic.Shutdown()
	}
}

func discardEvents(string) events.EventRecorderLogger { return &events.FakeRecorder{} }

var _ profile.RecorderFactory = discardEvents

// Zone is the node's topology.kubernetes.io/zone label, "" when it has none
// or is not in the session.
func (s *Session) Zone(node string) string {
	ni, err := s.c.snapshot.NodeInfos().Get(node)
	if err != nil || ni.Node() == nil {
		return ""
	}
	return ni.Node().Labels[v1.LabelTopologyZone]
}

// Nodes counts the nodes of the session's cluster.
func (s *Session) Nodes() int {
	return s.c.sched.Cache.NodeCount()
}

// NamespaceExists says whether the namespace exists in the listed cluster;
// it is true when the profile lists no namespaces, for then it cannot tell.
func (s *Session) NamespaceExists(name string) bool {
	inf := s.c.factory.Core().V1().Namespaces().Informer()
	if !inf.HasSynced() {
		return true
	}
	_, ok, err := inf.GetStore().GetByKey(name)
	return ok || err != nil
}
