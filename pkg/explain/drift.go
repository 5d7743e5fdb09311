package explain

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	configv1 "k8s.io/kube-scheduler/config/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// Drift is every running pod whose node fails the pod's own required
// placement rules now: rules are IgnoredDuringExecution, so a node relabelled
// or tainted, or pods whose labels changed, leave pods where the scheduler
// would not put them today.
type Drift struct {
	metav1.TypeMeta `json:",inline"`
	Nodes           int `json:"nodes"`
	// Checked counts the running pods judged.
	Checked int          `json:"checked"`
	Pods    []DriftedPod `json:"pods"`
	// Notes say what was assumed or left out.
	Notes []string `json:"notes,omitempty"`
	// DryRun and Evictions are set with --evict: how far the evictions went
	// (client, server or none) and each drifted pod's outcome.
	DryRun    string     `json:"dryRun,omitempty"`
	Evictions []Eviction `json:"evictions,omitempty"`
}

// Eviction is what --evict did with one drifted pod: Outcome is Evicted,
// WouldEvict (a dry run), Skipped (Message says why it may not go),
// Refused (a PodDisruptionBudget: Message is the API server's), Failed or
// OverTheLimit.
type Eviction struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Outcome   string `json:"outcome"`
	Message   string `json:"message,omitempty"`
}

// DriftedPod is one running pod whose node breaks its rules, and where the
// scheduler would put it now.
type DriftedPod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
	Node      string `json:"node"`
	Profile   string `json:"profile"`
	// Controller is the owner that re-creates the pod, kind/name; empty
	// when none does.
	Controller string `json:"controller,omitempty"`
	// Broken has one entry per placement plugin whose Filter rejects the
	// pod's node now, in the profile's order; empty for a pod listed only
	// because its node ranks below the best (Preferred).
	Broken []BrokenRule `json:"broken"`
	// Preferred is set, with DriftOptions.Preferred, for a pod whose node
	// passes its required rules but now scores below the best node by more
	// than the margin.
	Preferred *ScoreGap `json:"preferred,omitempty"`
	// Pick names the nodes the scheduler would choose for the pod now (tied
	// at the best score); empty when it fits nowhere, and Unschedulable
	// says why.
	Pick          []string `json:"pick,omitempty"`
	Unschedulable string   `json:"unschedulable,omitempty"`
}

// ScoreGap is how far a pod's node has fallen behind: its total score now,
// the best node's, and Gain, what moving would win.
type ScoreGap struct {
	NodeScore int64 `json:"nodeScore"`
	BestScore int64 `json:"bestScore"`
	Gain      int64 `json:"gain"`
}

// DriftOptions say which running pods Drift judges and how.
type DriftOptions struct {
	// Namespace narrows the pods ("" for all), Selector too (nil: every pod).
	Namespace string
	Selector  labels.Selector
	// Preferred also scores every pod whose required rules hold, on every
	// node (as explain does), and lists those whose node is behind the best
	// by more than Margin.
	Preferred bool
	Margin    int64
}

// BrokenRule is one plugin's verdict on a drifted pod's node: the plugin,
// the framework status code and reasons (as in a FailedScheduling message),
// and the object that broke it where the reasons do not name it (the
// untolerated taint).
type BrokenRule struct {
	Plugin  string   `json:"plugin"`
	Code    string   `json:"code"`
	Reasons []string `json:"reasons"`
	Detail  string   `json:"detail,omitempty"`
}

// placementPlugins are the filters that judge a pod's own placement rules
// (spec.nodeName, nodeSelector, node affinity, taints with NoSchedule or
// NoExecute, pod affinity and anti-affinity both ways): ours and their
// upstream twins. Resources, ports, volumes and cordons are not a pod's
// rules and are left out.
var placementPlugins = []string{
	"PlacementNodeName", "PlacementNodeSelector", "PlacementNodeAffinity", "PlacementTaintToleration", "PlacementPodAffinity",
	"NodeName", "NodeAffinity", "TaintToleration", "InterPodAffinity",
}

// driftProfileName names the one-plugin profile that judges a profile's
// pods with one of its placement plugins.
func driftProfileName(profile, plugin string) string {
	return profile + "/" + plugin
}

// withDefaultProfile adds upstream's default profile when the configuration
// has none named default-scheduler, so that the default scheduler's pods
// are judged and placed as it would; it says whether it added it.
func withDefaultProfile(profiles []config.KubeSchedulerProfile) ([]config.KubeSchedulerProfile, bool, error) {
	if slices.ContainsFunc(profiles, func(p config.KubeSchedulerProfile) bool { return p.SchedulerName == v1.DefaultSchedulerName }) {
		return profiles, false, nil
	}
	def, err := upstreamDefaultProfile()
	if err != nil {
		return nil, false, err
	}
	return append(slices.Clone(profiles), *def), true, nil
}

// driftProfiles are, for every profile, one profile per placement plugin it
// enables, holding only that plugin (so that each rule is judged even when
// an earlier one already rejects the node), with the profile's plugin
// arguments.
func driftProfiles(profiles []config.KubeSchedulerProfile) []config.KubeSchedulerProfile {
	var out []config.KubeSchedulerProfile
	for _, p := range profiles {
		for _, name := range enabledPlacementPlugins(p.Plugins) {
			out = append(out, config.KubeSchedulerProfile{
				SchedulerName:            driftProfileName(p.SchedulerName, name),
				PercentageOfNodesToScore: p.PercentageOfNodesToScore,
				Plugins: &config.Plugins{
					QueueSort:  config.PluginSet{Enabled: []config.Plugin{{Name: "PrioritySort"}}},
					Bind:       config.PluginSet{Enabled: []config.Plugin{{Name: "DefaultBinder"}}},
					MultiPoint: config.PluginSet{Enabled: []config.Plugin{{Name: name}}},
				},
				PluginConfig: p.PluginConfig,
			})
		}
	}
	return out
}

// enabledPlacementPlugins lists the placement plugins a profile runs as
// filters, in its order.
func enabledPlacementPlugins(p *config.Plugins) []string {
	if p == nil {
		return nil
	}
	var names []string
	disabled := map[string]bool{}
	for _, d := range p.Filter.Disabled {
		disabled[d.Name] = true
	}
	for _, set := range [][]config.Plugin{p.MultiPoint.Enabled, p.Filter.Enabled} {
		for _, pl := range set {
			if slices.Contains(placementPlugins, pl.Name) && !disabled[pl.Name] && !disabled["*"] && !slices.Contains(names, pl.Name) {
				names = append(names, pl.Name)
			}
		}
	}
	return names
}

// upstreamDefaultProfile is kube-scheduler's default-scheduler profile as
// KubeSchedulerConfiguration v1 defaults it.
func upstreamDefaultProfile() (*config.KubeSchedulerProfile, error) {
	var external configv1.KubeSchedulerConfiguration
	scheme.Scheme.Default(&external)
	var internal config.KubeSchedulerConfiguration
	if err := scheme.Scheme.Convert(&external, &internal, nil); err != nil {
		return nil, fmt.Errorf("building upstream's default profile: %w", err)
	}
	for i := range internal.Profiles {
		if internal.Profiles[i].SchedulerName == v1.DefaultSchedulerName {
			return &internal.Profiles[i], nil
		}
	}
	return nil, fmt.Errorf("upstream's default configuration has no %s profile", v1.DefaultSchedulerName)
}

// Drift judges every running pod in namespace ("" for all) that selector
// matches: each placement plugin of the pod's profile filters the pod's own
// node, with the pod taken out of the snapshot as the scheduler saw the
// cluster before it was bound. A pod whose node fails any of them is listed
// with where the scheduler would put it now. The session must have been
// opened with Options.Drift.
func (s *Session) Drift(ctx context.Context, o DriftOptions) (*Drift, error) {
	if s.c.drift == nil {
		return nil, fmt.Errorf("the session was not opened for drift")
	}
	ctx = quiet(ctx)
	selector, namespace := o.Selector, o.Namespace
	if selector == nil {
		selector = labels.Everything()
	}
	all, err := s.c.factory.Core().V1().Pods().Lister().List(selector)
	if err != nil {
		return nil, err
	}
	var pods []*v1.Pod
	for _, p := range all {
		if (namespace == "" || p.Namespace == namespace) && running(p) {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	d := &Drift{TypeMeta: typeMeta("Drift"), Nodes: s.Nodes(), Pods: []DriftedPod{}}
	if s.addedDefault {
		d.Notes = append(d.Notes, fmt.Sprintf("pods of %s are judged with upstream's default profile (the configuration has none of that name)", v1.DefaultSchedulerName))
	}
	others := map[string]int{}
	var judged []*v1.Pod
	for _, pod := range pods {
		if _, ok := s.c.sched.Profiles[pod.Spec.SchedulerName]; !ok {
			others[pod.Spec.SchedulerName]++
			continue
		}
		judged = append(judged, pod)
	}
	d.Checked = len(judged)
	verdicts, err := s.judge(ctx, judged)
	if err != nil {
		return nil, err
	}
	for i, pod := range judged {
		broken := verdicts[i]
		if len(broken) == 0 && !o.Preferred {
			continue
		}
		dp := DriftedPod{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName,
			Profile: pod.Spec.SchedulerName, Controller: controllerOf(pod), Broken: broken}
		e, err := s.Explain(ctx, pod)
		if err != nil {
			return nil, fmt.Errorf("placing pod %s/%s afresh: %w", pod.Namespace, pod.Name, err)
		}
		dp.Pick, dp.Unschedulable = e.Pick, e.Unschedulable
		if len(broken) == 0 {
			if dp.Preferred = gap(e, pod.Spec.NodeName); dp.Preferred == nil || dp.Preferred.Gain <= o.Margin {
				continue
			}
		}
		d.Pods = append(d.Pods, dp)
	}
	if len(others) > 0 {
		var names []string
		n := 0
		for name, count := range others {
			names = append(names, name)
			n += count
		}
		sort.Strings(names)
		d.Notes = append(d.Notes, fmt.Sprintf("%d running pods of schedulers without a profile here (%s) are not judged", n, strings.Join(names, ", ")))
	}
	return d, nil
}

// gap compares the pod's node with the best feasible one in an
// explanation; nil when its node is not feasible (the rules judged it).
func gap(e *Explanation, node string) *ScoreGap {
	if len(e.Feasible) == 0 {
		return nil
	}
	for _, n := range e.Feasible {
		if n.Node == node {
			best := e.Feasible[0].Total
			return &ScoreGap{NodeScore: n.Total, BestScore: best, Gain: best - n.Total}
		}
	}
	return nil
}

// running: bound, neither finished nor being deleted.
func running(p *v1.Pod) bool {
	return p.Spec.NodeName != "" && p.DeletionTimestamp == nil &&
		p.Status.Phase != v1.PodSucceeded && p.Status.Phase != v1.PodFailed
}

// judge returns, for each pod, the placement plugins of its profile that
// reject its node now, each run alone with the pod taken out (see
// driftview.go for which nodes they see). Pods are judged node by node, so
// that the plugins see one list of nodes for all the pods of a node.
func (s *Session) judge(ctx context.Context, pods []*v1.Pod) ([][]BrokenRule, error) {
	if err := s.c.sched.Cache.UpdateSnapshot(klog.FromContext(ctx), s.c.snapshot); err != nil {
		return nil, err
	}
	doms, err := newDomains(s.c.snapshot)
	if err != nil {
		return nil, err
	}
	verdicts := make([][]BrokenRule, len(pods))
	onNode := map[string][]int{}
	var nodes []string
	for i, pod := range pods {
		name := pod.Spec.NodeName
		if _, seen := onNode[name]; !seen {
			nodes = append(nodes, name)
		}
		onNode[name] = append(onNode[name], i)
	}
	for _, node := range nodes {
		var narrow []*v1.Pod
		var at []int
		for _, i := range onNode[node] {
			if s.c.wideDrift || hasRequiredAffinity(pods[i]) {
				if verdicts[i], err = s.judgeWide(ctx, pods[i]); err != nil {
					return nil, fmt.Errorf("judging pod %s/%s: %w", pods[i].Namespace, pods[i].Name, err)
				}
				continue
			}
			narrow, at = append(narrow, pods[i]), append(at, i)
		}
		got, err := s.judgeOnNode(ctx, node, narrow, doms)
		if err != nil {
			return nil, err
		}
		for k, i := range at {
			verdicts[i] = got[k]
		}
	}
	return verdicts, nil
}

// judgeWide judges a pod over the whole snapshot, the pod taken out of the
// cache meanwhile.
func (s *Session) judgeWide(ctx context.Context, pod *v1.Pod) ([]BrokenRule, error) {
	logger := klog.FromContext(ctx)
	cache := s.c.sched.Cache
	if cache.RemovePod(logger, pod) == nil {
		defer func() { _ = cache.AddPod(logger, pod) }()
	}
	if err := cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return nil, err
	}
	node, err := s.c.snapshot.NodeInfos().Get(pod.Spec.NodeName)
	if err != nil || node.Node() == nil {
		return nodeGone(pod.Spec.NodeName), nil
	}
	s.c.view.widen()
	return s.brokenOn(ctx, pod, node)
}

// judgeOnNode judges pods, all on node, over a copy of the node and the
// nodes of its domains: each pod is taken out of the copy while it is
// judged and put back after.
func (s *Session) judgeOnNode(ctx context.Context, node string, pods []*v1.Pod, doms *domains) ([][]BrokenRule, error) {
	if len(pods) == 0 {
		return nil, nil
	}
	logger := klog.FromContext(ctx)
	// judgeWide puts pods back into the cache: bring the snapshot up to
	// date (a no-op when nothing changed).
	if err := s.c.sched.Cache.UpdateSnapshot(logger, s.c.snapshot); err != nil {
		return nil, err
	}
	verdicts := make([][]BrokenRule, len(pods))
	lister := s.c.snapshot.NodeInfos()
	ni, err := lister.Get(node)
	if err != nil || ni.Node() == nil {
		for i, pod := range pods {
			verdicts[i] = nodeGone(pod.Spec.NodeName)
		}
		return verdicts, nil
	}
	var keys []string
	for _, pod := range pods {
		keys = append(keys, ownAntiAffinityKeys(pod)...)
	}
	others, err := doms.around(keys, ni.Node(), lister.List)
	if err != nil {
		return nil, err
	}
	own := ni.Snapshot()
	nodes := append(make([]fwk.NodeInfo, 0, len(others)+1), own)
	for name := range others {
		n, err := lister.Get(name)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	s.c.view.narrow(nodes)
	for i, pod := range pods {
		// Every running pod is in the cache; should one not be, there is
		// nothing to take out or put back.
		taken := podInfoOf(own, pod)
		if taken != nil {
			if err := own.RemovePod(logger, pod); err != nil {
				return nil, err
			}
		}
		verdicts[i], err = s.brokenOn(ctx, pod, own)
		if taken != nil {
			own.AddPodInfo(taken)
		}
		if err != nil {
			return nil, fmt.Errorf("judging pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return verdicts, nil
}

// podInfoOf finds pod among the node's pods, by uid.
func podInfoOf(node fwk.NodeInfo, pod *v1.Pod) fwk.PodInfo {
	for _, pi := range node.GetPods() {
		if pi.GetPod().UID == pod.UID {
			return pi
		}
	}
	return nil
}

func nodeGone(name string) []BrokenRule {
	return []BrokenRule{{Code: fwk.UnschedulableAndUnresolvable.String(), Reasons: []string{fmt.Sprintf("node %s no longer exists", name)}}}
}

// brokenOn filters node for pod with each placement plugin of its profile
// alone, over what the drift view lists.
func (s *Session) brokenOn(ctx context.Context, pod *v1.Pod, node fwk.NodeInfo) ([]BrokenRule, error) {
	logger := klog.FromContext(ctx)
	evaluated := pod.DeepCopy()
	evaluated.Spec.NodeName = ""
	var broken []BrokenRule
	for _, name := range enabledPlacementPlugins(s.profileConfig(pod.Spec.SchedulerName)) {
		f, ok := s.c.drift[driftProfileName(pod.Spec.SchedulerName, name)]
		if !ok {
			return nil, fmt.Errorf("no drift profile for plugin %s of profile %s", name, pod.Spec.SchedulerName)
		}
		st, err := s.filterOne(ctx, f, evaluated, node)
		if err != nil {
			return nil, err
		}
		if st != nil {
			broken = append(broken, BrokenRule{Plugin: st.Plugin(), Code: st.Code().String(), Reasons: st.Reasons(), Detail: detail(logger, name, pod, node.Node())})
		}
	}
	return broken, nil
}

// detail names the object behind a plugin's verdict where its reasons do
// not: the first taint of the node the pod does not tolerate.
func detail(logger klog.Logger, plugin string, pod *v1.Pod, node *v1.Node) string {
	if plugin != "TaintToleration" && plugin != "PlacementTaintToleration" {
		return ""
	}
	taint, found := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, pod.Spec.Tolerations, func(t *v1.Taint) bool {
		return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
	}, utilfeature.DefaultFeatureGate.Enabled(features.TaintTolerationComparisonOperators))
	if !found {
		return ""
	}
	return "taint " + taint.ToString()
}

// filterOne runs one profile's PreFilter and Filter for pod on one node and
// returns the rejection, nil if the node passes.
func (s *Session) filterOne(ctx context.Context, f framework.Framework, pod *v1.Pod, node fwk.NodeInfo) (*fwk.Status, error) {
	state := framework.NewCycleState()
	state.SetRecordPluginMetrics(false)
	statuses, _, _, err := filter(ctx, f, state, pod, []fwk.NodeInfo{node})
	if err != nil {
		return nil, err
	}
	return statuses[0], nil
}

// profileConfig is the configured plugins of a profile the session built.
func (s *Session) profileConfig(name string) *config.Plugins {
	for _, p := range s.profiles {
		if p.SchedulerName == name {
			return p.Plugins
		}
	}
	return nil
}
