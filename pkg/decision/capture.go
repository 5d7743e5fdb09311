package decision

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Sink takes finished records. It must not block: the scheduling cycle calls
// it (the Writer queues and drops).
type Sink interface {
	Enqueue(*Decision)
}

// Recorder observes the scheduling cycles of the profiles it was attached
// to and hands one record per attempt to each profile's sink.
//
// It sees a cycle in three places, none of which changes what the scheduler
// does: the profile's framework (wrapped, so that Filter statuses, the
// scores, the batching hint and PostFilter's result are observed on their way
// back to the scheduler; plugins keep the framework they were built with, so
// preemption's dry runs are not observed), the scheduler's SchedulePod (the
// chosen node and the counts it reports, or its FitError) and its
// FailureHandler (the final status of an attempt that failed). A bound pod's
// record is finished by the PlacementDecisions plugin's PostBind.
type Recorder struct {
	now func() time.Time

	mu sync.Mutex
	// inflight are the cycles whose SchedulePod returned and whose attempt
	// has not ended yet (binding, or the failure handler, to come).
	inflight map[types.UID]*cycle
}

// maxInflight bounds the cycles kept between SchedulePod and the end of the
// attempt; every path of the scheduler ends an attempt, so this is only a
// guard against a path that does not.
const maxInflight = 100_000

// Profile is how one profile records.
type Profile struct {
	Config Config
	Sink   Sink
}

// NewRecorder returns a recorder that is attached to nothing yet.
func NewRecorder() *Recorder {
	return &Recorder{now: time.Now, inflight: map[types.UID]*cycle{}}
}

// Attach makes sched record the decisions of the named profiles. It must be
// called after the scheduler is built and before it runs.
func (r *Recorder) Attach(sched *scheduler.Scheduler, profiles map[string]Profile) {
	for name, p := range profiles {
		f, ok := sched.Profiles[name]
		if !ok {
			continue
		}
		sched.Profiles[name] = &recordingFramework{Framework: f, profile: p}
	}
	schedulePod := sched.SchedulePod
	sched.SchedulePod = func(ctx context.Context, f framework.Framework, state fwk.CycleState, podInfo *framework.QueuedPodInfo) (scheduler.ScheduleResult, error) {
		rf, ok := f.(*recordingFramework)
		if !ok || state.IsPodGroupSchedulingCycle() {
			return schedulePod(ctx, f, state, podInfo)
		}
		c := newCycle(rf, podInfo)
		state.Write(cycleKey, c)
		res, err := schedulePod(ctx, f, state, podInfo)
		c.scheduled(f, res, err)
		r.track(ctx, c)
		return res, err
	}
	failureHandler := sched.FailureHandler
	sched.FailureHandler = func(ctx context.Context, f framework.Framework, podInfo *framework.QueuedPodInfo, status *fwk.Status, nominating *fwk.NominatingInfo, start time.Time) {
		if podInfo != nil && podInfo.Pod != nil {
			if c := r.take(podInfo.Pod.UID); c != nil {
				c.failed(status, nominating)
				r.finish(c)
			}
		}
		failureHandler(ctx, f, podInfo, status, nominating, start)
	}
}

// PodBound finishes the record of the cycle in state, whose pod was bound to
// node. The PlacementDecisions plugin calls it from PostBind; a cycle of a
// profile that does not record has nothing to finish.
func PodBound(state fwk.CycleState, pod *v1.Pod, node string) {
	c := cycleOf(state)
	if c == nil || c.recorder == nil {
		return
	}
	if c = c.recorder.take(pod.UID); c == nil {
		return
	}
	c.d.Outcome, c.d.Node = Bound, node
	c.recorder.finish(c)
}

func (r *Recorder) track(ctx context.Context, c *cycle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.inflight) >= maxInflight {
		klog.FromContext(ctx).Error(nil, "Too many scheduling attempts without an end; dropping the record", "pod", klog.KObj(c.pod), "limit", maxInflight)
		return
	}
	c.recorder = r
	r.inflight[c.pod.UID] = c
}

func (r *Recorder) take(uid types.UID) *cycle {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.inflight[uid]
	delete(r.inflight, uid)
	return c
}

func (r *Recorder) finish(c *cycle) {
	c.d.Time = metav1.NewMicroTime(r.now())
	c.profile.Sink.Enqueue(c.d)
}

// cycleKey stores the cycle in the CycleState, where the framework's
// wrapper and the plugin find it.
const cycleKey fwk.StateKey = "placement.kube-placement.io/decision"

func cycleOf(state fwk.CycleState) *cycle {
	if state == nil {
		return nil
	}
	v, err := state.Read(cycleKey)
	if err != nil {
		return nil
	}
	c, _ := v.(*cycle)
	return c
}

// cycle is what one scheduling attempt of one pod has shown so far.
type cycle struct {
	profile  Profile
	recorder *Recorder
	pod      *v1.Pod
	d        *Decision

	// first is the node the scheduler tries before all others: the pod's
	// nominated node, else the batching hint.
	first string

	mu       sync.Mutex
	rejected tally
	// firstStatuses are the Filter statuses of first, in order: it may be
	// evaluated twice (alone, then with all nodes), and only its last
	// status counts, as only the last is in the scheduler's diagnosis.
	firstStatuses []*fwk.Status
	// narrowed counts the nodes a PreFilter result left out, with the
	// reason the scheduler gives them; set only when it left some out.
	narrowed       int
	narrowedStatus *fwk.Status
	scores         []fwk.NodePluginScores
}

// Clone shares the cycle: copies of the state are made for preemption's dry
// runs and scheduling hints, which record nothing.
func (c *cycle) Clone() fwk.StateData { return c }

func newCycle(f *recordingFramework, podInfo *framework.QueuedPodInfo) *cycle {
	pod := podInfo.Pod
	return &cycle{
		profile:  f.profile,
		pod:      pod,
		first:    pod.Status.NominatedNodeName,
		rejected: tally{},
		d: &Decision{
			TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind},
			ObjectMeta: metav1.ObjectMeta{Name: string(pod.UID), Namespace: pod.Namespace, Labels: pod.Labels},
			Pod:        PodReference{Name: pod.Name, UID: string(pod.UID), Generation: pod.Generation, ResourceVersion: pod.ResourceVersion},
			Profile:    f.ProfileName(),
			Attempts:   podInfo.Attempts,
		},
	}
}

func (c *cycle) filtered(node string, s *fwk.Status) {
	if node != c.first && s.IsSuccess() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if node == c.first {
		c.firstStatuses = append(c.firstStatuses, s)
		return
	}
	c.rejected.add(node, s)
}

// scheduled fills the record from what SchedulePod returned.
func (c *cycle) scheduled(f framework.Framework, res scheduler.ScheduleResult, err error) {
	var fitErr *framework.FitError
	switch {
	case err == nil:
		c.d.Outcome, c.d.Node = Bound, res.SuggestedHost
		c.d.Nodes = NodeCounts{Total: numNodes(f), Evaluated: res.EvaluatedNodes, Feasible: res.FeasibleNodes}
		c.countFirst()
		if c.narrowed > 0 {
			c.rejected.addN("", c.narrowedStatus.Message(), c.narrowed, "")
		}
		c.d.Rejections = c.rejected.list()
		if c.first != "" && res.SuggestedHost == c.first && len(c.firstStatuses) == 1 && res.EvaluatedNodes == 1 {
			c.d.Shortcut = "BatchHint"
			if c.pod.Status.NominatedNodeName != "" {
				c.d.Shortcut = "NominatedNode"
			}
		}
		c.d.Scores, c.d.Margin, c.d.Tied = topScores(c.scores, res.SuggestedHost, c.profile.Config.TopNodes)
	case errors.As(err, &fitErr):
		c.unfit(fitErr)
	case errors.Is(err, scheduler.ErrNoNodesAvailable):
		c.d.Outcome = Unschedulable
	default:
		c.d.Outcome, c.d.Message = Failed, err.Error()
		c.d.Nodes.Total = numNodes(f)
	}
	c.scores = nil
}

// countFirst adds the last status of the node tried first, if it failed.
func (c *cycle) countFirst() {
	if n := len(c.firstStatuses); n > 0 && !c.firstStatuses[n-1].IsSuccess() {
		c.rejected.add(c.first, c.firstStatuses[n-1])
	}
}

// unfit fills the record from the scheduler's own diagnosis: the counts are
// those of the FailedScheduling message by construction.
func (c *cycle) unfit(fitErr *framework.FitError) {
	d := fitErr.Diagnosis
	c.d.Outcome = Unschedulable
	c.d.Nodes.Total = fitErr.NumAllNodes
	t := tally{}
	if d.PreFilterMsg == "" && d.NodeToStatus != nil {
		d.NodeToStatus.ForEachExplicitNode(func(node string, s *fwk.Status) { t.add(node, s) })
		if absent := fitErr.NumAllNodes - d.NodeToStatus.Len(); absent > 0 {
			s := d.NodeToStatus.AbsentNodesStatus()
			for _, reason := range s.Reasons() {
				t.addN(s.Plugin(), reason, absent, "")
			}
		}
		c.d.Nodes.Evaluated = d.NodeToStatus.Len()
	} else if d.PreFilterMsg != "" {
		s := d.NodeToStatus.AbsentNodesStatus()
		t.addN(s.Plugin(), d.PreFilterMsg, fitErr.NumAllNodes, "")
	}
	c.d.Rejections = t.list()
}

// failed ends an attempt the scheduler reported as failed: status is what
// the FailureHandler got, its message the FailedScheduling event's.
func (c *cycle) failed(status *fwk.Status, nominating *fwk.NominatingInfo) {
	if c.d.Outcome == Bound {
		// Chosen, then reserve, permit or bind failed.
		c.d.Outcome = Failed
	}
	c.d.Message = status.Message()
	if c.d.Outcome == Unschedulable && nominating != nil && nominating.Mode() == fwk.ModeOverride && nominating.NominatedNodeName != "" {
		c.d.Outcome, c.d.Node = Nominated, nominating.NominatedNodeName
	}
}

// narrowedBy counts the nodes a PreFilter result left out, under the reason
// the scheduler gives them in its diagnosis.
func (c *cycle) narrowedBy(f framework.Framework, res *fwk.PreFilterResult, plugins sets.Set[string]) {
	l := f.SnapshotSharedLister()
	if l == nil {
		return
	}
	kept := 0
	for name := range res.NodeNames {
		if _, err := l.NodeInfos().Get(name); err == nil {
			kept++
		}
	}
	if left := numNodes(f) - kept; left > 0 {
		c.narrowed = left
		c.narrowedStatus = fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(plugins)))
	}
}

func numNodes(f framework.Framework) int {
	l := f.SnapshotSharedLister()
	if l == nil {
		return 0
	}
	n, err := l.NodeInfos().List()
	if err != nil {
		return 0
	}
	return len(n)
}

// recordingFramework is a profile's framework whose results the recorder
// observes. Every call goes to the framework unchanged.
type recordingFramework struct {
	framework.Framework
	profile Profile
}

func (f *recordingFramework) RunPreFilterPlugins(ctx context.Context, state fwk.CycleState, pod *v1.Pod) (*fwk.PreFilterResult, *fwk.Status, sets.Set[string]) {
	res, s, plugins := f.Framework.RunPreFilterPlugins(ctx, state, pod)
	if c := cycleOf(state); c != nil && s.IsSuccess() && !res.AllNodes() {
		c.narrowedBy(f, res, plugins)
	}
	return res, s, plugins
}

func (f *recordingFramework) GetNodeHint(ctx context.Context, pod *v1.Pod, signature fwk.PodSignature, state fwk.CycleState, cycleCount int64) string {
	hint := f.Framework.GetNodeHint(ctx, pod, signature, state, cycleCount)
	if c := cycleOf(state); c != nil && c.first == "" {
		c.first = hint
	}
	return hint
}

func (f *recordingFramework) RunFilterPluginsWithNominatedPods(ctx context.Context, state fwk.CycleState, pod *v1.Pod, info fwk.NodeInfo) *fwk.Status {
	s := f.Framework.RunFilterPluginsWithNominatedPods(ctx, state, pod, info)
	if c := cycleOf(state); c != nil {
		c.filtered(info.Node().Name, s)
	}
	return s
}

func (f *recordingFramework) RunScorePlugins(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) ([]fwk.NodePluginScores, *fwk.Status) {
	scores, s := f.Framework.RunScorePlugins(ctx, state, pod, nodes)
	if c := cycleOf(state); c != nil && s.IsSuccess() {
		c.scores = scores
	}
	return scores, s
}
