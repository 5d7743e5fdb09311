package explain

import (
	"context"
	"errors"
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultpreemption"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
)

// placeReplica places pod as the scheduler would over as many cycles as it
// takes: one cycle and, when no node fits, the profile's preemption (unless
// the session was opened with NoPreemption) and, with its victims gone from
// the snapshot, the cycle after it. The Preemption is non-nil when victims
// were taken out, even if the pod still fits nowhere then.
func (s *Session) placeReplica(ctx context.Context, pod *v1.Pod) (string, *Preemption, error) {
	f, err := s.framework(pod)
	if err != nil {
		return "", nil, err
	}
	ctx = quiet(ctx)
	node, state, err := s.cycle(ctx, f, pod)
	var fitErr *framework.FitError
	if err == nil || s.noPreemption || !errors.As(err, &fitErr) {
		return node, nil, err
	}
	ev, err := s.evaluator(ctx, f)
	if err != nil {
		return "", nil, err
	}
	if ev == nil {
		return "", nil, fitErr
	}
	best, msg, err := s.preempt(ctx, ev, state, pod, fitErr)
	if err != nil {
		return "", nil, fmt.Errorf("preemption for %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if best == nil {
		// The scheduler adds PostFilter's answer to FailedScheduling.
		fitErr.Diagnosis.PostFilterMsg = msg
		return "", nil, fitErr
	}
	p, err := s.removeVictims(ctx, pod, best)
	if err != nil {
		return "", nil, err
	}
	node, _, err = s.cycle(ctx, f, pod)
	p.NodeName = node
	return node, p, err
}

// evaluator is the profile's DefaultPreemption, or nil when the profile has
// none. It is a second instance of the plugin over the profile's own
// framework: the one the scheduler built would delete its victims through
// the client, and only its dry run is wanted here.
func (s *Session) evaluator(ctx context.Context, f framework.Framework) (*preemption.Evaluator, error) {
	name := f.ProfileName()
	if ev, ok := s.evaluators[name]; ok {
		return ev, nil
	}
	var ev *preemption.Evaluator
	enabled := f.ListPlugins().PostFilter.Enabled
	if slices.ContainsFunc(enabled, func(p config.Plugin) bool { return p.Name == names.DefaultPreemption }) {
		args, err := preemptionArgs(s.profiles, name)
		if err != nil {
			return nil, err
		}
		pl, err := defaultpreemption.New(ctx, args, f, feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate))
		if err != nil {
			return nil, fmt.Errorf("profile %s: %s: %w", name, names.DefaultPreemption, err)
		}
		ev = pl.Evaluator
	}
	s.evaluators[name] = ev
	return ev, nil
}

// preemptionArgs are the profile's DefaultPreemption args; configuration
// defaulting gives every profile that runs the plugin its args.
func preemptionArgs(profiles []config.KubeSchedulerProfile, name string) (*config.DefaultPreemptionArgs, error) {
	for _, p := range profiles {
		if p.SchedulerName != name {
			continue
		}
		for _, pc := range p.PluginConfig {
			if args, ok := pc.Args.(*config.DefaultPreemptionArgs); ok && pc.Name == names.DefaultPreemption {
				return args, nil
			}
		}
	}
	return nil, fmt.Errorf("profile %s: no %s args in the configuration", name, names.DefaultPreemption)
}

// preempt asks the questions the scheduler's preemption asks after a failed
// cycle, in its order, through the plugin's own steps: may the pod preempt,
// on which nodes would evicting lower-priority pods help (those its filters
// called Unschedulable, not UnschedulableAndUnresolvable), which victims on
// each (fewest, sparing PodDisruptionBudgets where it can), which candidate
// wins. It returns the winner, or nil and the message the scheduler would
// add to FailedScheduling.
func (s *Session) preempt(ctx context.Context, ev *preemption.Evaluator, state fwk.CycleState, pod *v1.Pod, fitErr *framework.FitError) (preemption.Candidate, string, error) {
	statuses := fitErr.Diagnosis.NodeToStatus
	if ok, msg := ev.PodEligibleToPreemptOthers(ctx, pod, statuses.Get(pod.Status.NominatedNodeName)); !ok {
		return nil, "preemption: " + msg, nil
	}
	nodes := s.c.snapshot.NodeInfos()
	all, err := nodes.List()
	if err != nil {
		return nil, "", err
	}
	potential, err := statuses.NodesForStatusCode(nodes, fwk.Unschedulable)
	if err != nil {
		return nil, "", err
	}
	var candidates []preemption.Candidate
	dryRun := framework.NewDefaultNodeToStatus()
	if len(potential) > 0 {
		pdbs, err := ev.PdbLister.List(labels.Everything())
		if err != nil {
			return nil, "", err
		}
		offset, count := ev.GetOffsetAndNumCandidates(int32(len(potential)))
		candidates, dryRun, err = ev.DryRunPreemption(ctx, state, pod, potential, pdbs, offset, count)
		if err != nil && len(candidates) == 0 {
			return nil, "", err
		}
	}
	if len(candidates) == 0 {
		noHelp := &framework.FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: framework.Diagnosis{NodeToStatus: dryRun}}
		noHelp.Diagnosis.NodeToStatus.SetAbsentNodesStatus(fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "Preemption is not helpful for scheduling"))
		return nil, "preemption: " + noHelp.Error(), nil
	}
	best := ev.SelectCandidate(ctx, candidates)
	if best == nil || best.Name() == "" {
		return nil, "preemption: no candidate node for preemption", nil
	}
	return best, "", nil
}

// removeVictims takes the chosen candidate's victims out of the snapshot,
// as their deletion will take them out of the scheduler's cache.
func (s *Session) removeVictims(ctx context.Context, pod *v1.Pod, best preemption.Candidate) (*Preemption, error) {
	logger := klog.FromContext(ctx)
	cache := s.c.sched.Cache
	victims := best.Victims()
	p := &Preemption{Pod: pod.Name, Node: best.Name(), PDBViolations: int(victims.NumPDBViolations), Victims: []Victim{}}
	for _, v := range victims.Pods {
		// Pods this session placed are assumed, never added.
		simulated, _ := cache.IsAssumedPod(v)
		if err := cache.RemovePod(logger, v); err != nil {
			return nil, fmt.Errorf("taking victim %s/%s out of the snapshot: %w", v.Namespace, v.Name, err)
		}
		s.recordRemoved(logger, v, simulated)
		p.Victims = append(p.Victims, Victim{Namespace: v.Namespace, Name: v.Name, Priority: podPriority(v), Simulated: simulated})
	}
	return p, nil
}

// simulatedVictims counts the victims placed earlier in the same answer.
func simulatedVictims(ps []Preemption) int {
	n := 0
	for _, p := range ps {
		for _, v := range p.Victims {
			if v.Simulated {
				n++
			}
		}
	}
	return n
}
