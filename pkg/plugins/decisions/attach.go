package decisions

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	schedulerappconfig "k8s.io/kubernetes/cmd/kube-scheduler/app/config"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

// Recording is a scheduler's recording of decisions: one writer per profile
// that enables the plugin.
type Recording struct {
	writers []*decision.Writer
}

// Attach turns recording on in sched for every profile that enables the
// plugin, with the profile's args, and starts the writers; they stop with
// ctx. Call it between app.Setup and app.Run.
func Attach(ctx context.Context, cc *schedulerappconfig.CompletedConfig, sched *scheduler.Scheduler) (*Recording, error) {
	return AttachTo(ctx, cc, sched, nil)
}

// AttachTo is Attach with the records kept in store; nil means the API
// server (a PlacementDecision per pod). The benchmarks pass a store that
// keeps nothing, to tell the scheduler's part of the cost from the API
// server's.
func AttachTo(ctx context.Context, cc *schedulerappconfig.CompletedConfig, sched *scheduler.Scheduler, store decision.Store) (*Recording, error) {
	profiles := map[string]decision.Profile{}
	configs := map[string]decision.Config{}
	for _, p := range cc.ComponentConfig.Profiles {
		f, ok := sched.Profiles[p.SchedulerName]
		if !ok || !enabled(f.ListPlugins()) {
			continue
		}
		cfg, err := ParseArgs(pluginArgs(p))
		if err != nil {
			return nil, fmt.Errorf("profile %q: %w", p.SchedulerName, err)
		}
		configs[p.SchedulerName] = cfg
	}
	rec := &Recording{}
	if len(configs) == 0 {
		return rec, nil
	}
	if store == nil {
		api, err := decision.NewAPIStore(cc.KubeConfig)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		store = api
	}
	for name, cfg := range configs {
		w := decision.NewWriter(store, name, cfg)
		rec.writers = append(rec.writers, w)
		profiles[name] = decision.Profile{Config: cfg, Sink: w}
		go w.Run(ctx)
	}
	decision.NewRecorder().Attach(sched, profiles)
	return rec, nil
}

// Abandon makes the writers stop without writing what they hold, as in a
// killed process (for tests).
func (r *Recording) Abandon() {
	for _, w := range r.writers {
		w.Abandon()
	}
}

// Unwritten lists the pods of the records the writers hold of attempts that
// may have bound their pod.
func (r *Recording) Unwritten() []types.UID {
	var pods []types.UID
	for _, w := range r.writers {
		pods = append(pods, w.Queued(mayHaveBound)...)
	}
	return pods
}

// mayHaveBound: the attempt bound its pod, or its binding cycle failed after
// choosing a node. The API server may have bound the pod all the same: a
// stopping scheduler cancels its bind requests, and one the API server
// completed still fails on the scheduler's side.
func mayHaveBound(d *decision.Decision) bool {
	return d.Outcome == decision.Bound || d.Outcome == decision.Failed && d.Node != ""
}

// Wait returns once every writer has stopped (ctx ended, the queue written
// or given up on).
func (r *Recording) Wait() {
	for _, w := range r.writers {
		<-w.Done()
	}
}

// enabled says whether the plugin is in the profile: the framework lists it
// at PostBind, the one extension point it has, however it was enabled.
func enabled(p *config.Plugins) bool {
	return p != nil && slices.ContainsFunc(p.PostBind.Enabled, func(pl config.Plugin) bool { return pl.Name == Name })
}

func pluginArgs(p config.KubeSchedulerProfile) runtime.Object {
	for _, pc := range p.PluginConfig {
		if pc.Name == Name {
			return pc.Args
		}
	}
	return nil
}
