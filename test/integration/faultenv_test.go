package integration

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/internal/apiproxy"
	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/keptcheck"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// The fault tests' cluster and workload: 60 nodes in three zones and 2,000
// pods arriving, a tenth of them with required hostname anti-affinity (groups
// of eight), a tenth with required zone affinity (groups of ten), a tenth
// with preferred terms, and 70 pods that must each have a node to themselves,
// so that the ones beyond the cluster's size stay pending: the check that
// nothing pending fits has something to look at. Every 25th pod is checked
// against a fresh count as it is scheduled.
const (
	faultNodes  = 60
	faultPods   = 2000
	faultLonely = 70
	faultZones  = 3
	checkEvery  = 25
	// faultTimeout bounds each wait, and a create's retries: longer than
	// TestFaultAPIServerDown's minute without an API server.
	faultTimeout = 2 * time.Minute
	// indexLabel carries a pod's place in the workload, so that a pod can
	// be created again alike.
	indexLabel = "fault.placement.test/index"
)

// faultEnv is a control plane whose every client reaches the apiserver
// through its own proxy, so that a fault can be given to one client (a
// scheduler instance) and the apiserver can restart on a new address under
// all of them.
type faultEnv struct {
	*env
	admin   *apiproxy.Proxy
	checker *keptcheck.Checker

	mu         sync.Mutex
	schedulers []*apiproxy.Proxy
	// deleted are pods the test deleted, which no longer count.
	deleted map[string]bool
	// droppedBefore is the decision records dropped in this process before
	// the test began (the counter is the process's).
	droppedBefore float64
}

func newFaultEnv(t *testing.T, apiserverFlags ...string) *faultEnv {
	e := newEnv(t, apiserverFlags...)
	f := &faultEnv{env: e, checker: &keptcheck.Checker{}, deleted: map[string]bool{}, droppedBefore: decisionMetric(t, "placement_decision_records_dropped_total")}
	f.admin = f.startProxy()
	cs, err := kubernetes.NewForConfig(f.admin.Config())
	if err != nil {
		t.Fatal(err)
	}
	e.cs = cs
	if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: deployNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < faultNodes; i++ {
		e.createNodes(faultNode(i))
	}
	return f
}

func (f *faultEnv) startProxy() *apiproxy.Proxy {
	f.t.Helper()
	p, err := apiproxy.Start(f.cluster.Config)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(p.Close)
	return p
}

// startScheduler runs an instance behind a new proxy, with
// PlacementPodAffinity checked by f.checker. Reusing a proxy (a restarted
// instance on the same network path) keeps its request log.
func (f *faultEnv) startScheduler(p *apiproxy.Proxy, leaderElect bool, flags ...string) (*localscheduler.Scheduler, *apiproxy.Proxy) {
	f.t.Helper()
	return f.startInstance(p, faultConfig(f.t), leaderElect, flags...)
}

// startSchedulerWith runs one instance, without leader election, with the
// given configuration.
func (f *faultEnv) startSchedulerWith(cfg []byte) (*localscheduler.Scheduler, *apiproxy.Proxy) {
	f.t.Helper()
	return f.startInstance(nil, cfg, false)
}

func (f *faultEnv) startInstance(p *apiproxy.Proxy, cfg []byte, leaderElect bool, flags ...string) (*localscheduler.Scheduler, *apiproxy.Proxy) {
	f.t.Helper()
	if p == nil {
		p = f.startProxy()
		f.mu.Lock()
		f.schedulers = append(f.schedulers, p)
		f.mu.Unlock()
	}
	kubeconfig := filepath.Join(f.t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(kubeconfig); err != nil {
		f.t.Fatal(err)
	}
	s := f.env.startScheduler(localscheduler.Options{Kubeconfig: kubeconfig, Config: cfg, LeaderElect: leaderElect, Flags: flags, Plugins: f.checker.Registry()})
	return s, p
}

// faultConfig is the deployable configuration with the client's rate limit
// raised from kube-scheduler's default (50 requests/s, a bind and an event
// per pod), so that the workload takes seconds, not a minute, to place.
func faultConfig(t *testing.T) []byte {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(manifests.SchedulerConfig, &doc); err != nil {
		t.Fatal(err)
	}
	doc["clientConnection"] = map[string]any{"qps": 1000, "burst": 2000}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// restartAPIServer restarts the apiserver on the same etcd and points every
// proxy at the new one. While it is down its clients' connections drop and
// new ones are refused, as with a process that exits.
func (f *faultEnv) restartAPIServer(down time.Duration) {
	f.t.Helper()
	f.mu.Lock()
	proxies := append([]*apiproxy.Proxy{f.admin}, f.schedulers...)
	f.mu.Unlock()
	for _, p := range proxies {
		p.Cut()
	}
	if err := f.cluster.RestartAPIServer(f.ctx, down); err != nil {
		f.t.Fatalf("restarting the apiserver: %v", err)
	}
	for _, p := range proxies {
		if err := p.SetUpstream(f.cluster.Config); err != nil {
			f.t.Fatal(err)
		}
		p.Heal()
	}
}

func faultNode(i int) *v1.Node {
	name := fmt.Sprintf("fault-%02d", i)
	capacity := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("4"),
		v1.ResourceMemory: resource.MustParse("16Gi"),
		v1.ResourcePods:   resource.MustParse("110"),
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			v1.LabelHostname: name, fixtures.ZoneLabel: fmt.Sprintf("zone-%c", 'a'+i%faultZones),
		}},
		Status: v1.NodeStatus{Capacity: capacity, Allocatable: capacity,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
	}
}

// faultPod is pod i of the workload; name tells apart re-created pods.
func faultPod(name string, i int) *v1.Pod {
	w := st.MakePod().Namespace(metav1.NamespaceDefault).Name(name).SchedulerName(ourScheduler).
		Container("registry.k8s.io/pause:3.10").Req(map[v1.ResourceName]string{v1.ResourceCPU: "50m"})
	switch {
	case i%10 == 0:
		app := fmt.Sprintf("anti-%d", i/10%25)
		w.Label("app", app).PodAntiAffinityIn("app", v1.LabelHostname, []string{app}, st.PodAntiAffinityWithRequiredReq)
	case i%10 == 1:
		app := fmt.Sprintf("zoned-%d", i/10%20)
		w.Label("app", app).PodAffinityIn("app", fixtures.ZoneLabel, []string{app}, st.PodAffinityWithRequiredReq)
	case i%10 == 2:
		w.Label("app", "preferring").
			PodAntiAffinityIn("app", fixtures.ZoneLabel, []string{"preferring"}, st.PodAntiAffinityWithPreferredReq).
			PodAffinityIn("app", v1.LabelHostname, []string{"anti-0"}, st.PodAffinityWithPreferredReq)
	case i%10 == 3 && i/10 < faultLonely:
		w.Label("app", "lonely").PodAntiAffinityIn("app", v1.LabelHostname, []string{"lonely"}, st.PodAntiAffinityWithRequiredReq)
	default:
		w.Label("app", fmt.Sprintf("plain-%d", i%7))
	}
	if i%checkEvery == 0 {
		w.Label(keptcheck.CheckLabel, "")
	}
	return w.Label(indexLabel, strconv.Itoa(i)).Obj()
}

// createPods creates pods first..last-1 of the workload with 8 clients,
// retrying through faults; a create whose answer was lost and that finds the
// pod there counts as done.
func (f *faultEnv) createPods(first, last int) error {
	var g errgroup.Group
	for w := 0; w < 8; w++ {
		g.Go(func() error {
			for i := first + w; i < last; i += 8 {
				if err := f.createRetrying(faultPod(fmt.Sprintf("fault-%04d", i), i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func (f *faultEnv) createRetrying(pod *v1.Pod) error {
	return wait.PollUntilContextTimeout(f.ctx, 100*time.Millisecond, faultTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := f.cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
}

// deletePods deletes pods at once, as the pod garbage collector and a kubelet
// would between them, and remembers them as gone.
func (f *faultEnv) deletePods(pods []v1.Pod) {
	f.t.Helper()
	for _, p := range pods {
		err := f.cs.CoreV1().Pods(p.Namespace).Delete(f.ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if err != nil && !apierrors.IsNotFound(err) {
			f.t.Fatalf("deleting pod %s: %v", p.Name, err)
		}
		f.mu.Lock()
		f.deleted[p.Name] = true
		f.mu.Unlock()
	}
}

// pods lists the workload's pods, tolerating a fault in progress.
func (f *faultEnv) pods(ctx context.Context) ([]v1.Pod, error) {
	list, err := f.cs.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func bound(pods []v1.Pod) []v1.Pod {
	var out []v1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			out = append(out, p)
		}
	}
	return out
}

// waitBound waits until at least n pods are bound, through faults.
func (f *faultEnv) waitBound(n int) {
	f.t.Helper()
	got := 0
	err := wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, faultTimeout, true, func(ctx context.Context) (bool, error) {
		pods, err := f.pods(ctx)
		got = len(bound(pods))
		return err == nil && got >= n, nil
	})
	if err != nil {
		f.t.Fatalf("%d pods bound within %v, want %d", got, faultTimeout, n)
	}
}

// waitSettled waits until every pod but the lonely ones the cluster has no
// node left for is bound, and returns when that was. When that does not
// happen the test fails, and goes on to verify, which tells why.
func (f *faultEnv) waitSettled(want int) time.Time {
	f.t.Helper()
	var got, total int
	err := wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, faultTimeout, true, func(ctx context.Context) (bool, error) {
		pods, err := f.pods(ctx)
		if err != nil {
			return false, nil
		}
		nodes, err := f.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		total, got = len(pods), len(bound(pods))
		lonely := 0
		for _, p := range pods {
			if p.Labels["app"] == "lonely" {
				lonely++
			}
		}
		return total == want && got == total-max(0, lonely-len(nodes.Items)), nil
	})
	if err != nil {
		f.t.Errorf("not settled within %v: %d pods (want %d), %d bound", faultTimeout, total, want, got)
	}
	return time.Now()
}

// faultReport is what each fault test reports.
type faultReport struct {
	fault       string
	pods, nodes int
	recovery    time.Duration
	// doubleBinds counts pods bound twice; refusedBinds, binding requests
	// the apiserver refused (the pod was bound already, say).
	doubleBinds, refusedBinds int
	// wrong counts bound pods whose node rejects them now; fitting, pending
	// pods that have a feasible node.
	wrong, fitting int
	// checked counts pods evaluated with kept and fresh counts.
	checked, leaked int
	// recordsMissing counts bound pods without a record naming their node;
	// recordsDropped, the records the writers dropped.
	recordsMissing, recordsDropped int
}

func (r faultReport) String() string {
	return fmt.Sprintf("fault %s: %d pods on %d nodes, recovered in %v; double binds %d (refused %d), wrong placements %d, pending that fit %d, pods checked against a fresh count %d, leaked goroutines %d; decision records missing %d, dropped %d",
		r.fault, r.pods, r.nodes, r.recovery.Round(100*time.Millisecond), r.doubleBinds, r.refusedBinds, r.wrong, r.fitting, r.checked, r.leaked, r.recordsMissing, r.recordsDropped)
}

// verify checks the settled cluster, stops every scheduler instance and
// checks that they left no goroutine behind; it logs the report.
func (f *faultEnv) verify(r *faultReport, instances ...*localscheduler.Scheduler) {
	f.t.Helper()
	pods, err := f.pods(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	nodes, err := f.cs.CoreV1().Nodes().List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	r.pods, r.nodes = len(pods), len(nodes.Items)
	start := time.Now()
	f.checkProbes()
	f.t.Logf("probes took %v", time.Since(start).Round(100*time.Millisecond))
	f.checkBindings(r, pods)
	start = time.Now()
	f.checkPlacements(r, pods)
	f.t.Logf("placements checked in %v", time.Since(start).Round(100*time.Millisecond))
	f.checkScheduledEvents()
	var diffs []string
	r.checked, diffs = f.checker.Result()
	if r.checked == 0 {
		f.t.Error("no pod was checked against a fresh count")
	}
	for _, d := range diffs {
		f.t.Errorf("kept counts differ from a fresh count: %s", d)
	}
	for _, s := range instances {
		s.Stop()
	}
	// After the stop: a stopping writer writes what it holds, or drops it.
	f.checkRecords(r, pods)
	r.leaked = f.checkGoroutines()
	f.t.Log(r)
}

// checkProbes schedules one more pod of each kind on the settled cluster, so
// that its kept counts are compared with a fresh count after the fault.
func (f *faultEnv) checkProbes() {
	f.t.Helper()
	for i := 0; i < 10; i++ {
		pod := faultPod(fmt.Sprintf("probe-%d", i), i)
		pod.Labels[keptcheck.CheckLabel] = ""
		if err := f.createRetrying(pod); err != nil {
			f.t.Fatal(err)
		}
		f.waitPod(pod, faultTimeout, "scheduled or found unschedulable", func(ctx context.Context, p *v1.Pod) (string, error) {
			if p.Spec.NodeName != "" {
				return p.Spec.NodeName, nil
			}
			return fixtures.FailedSchedulingMessage(ctx, f.cs, p)
		})
	}
}

// checkBindings: from the scheduler instances' own requests, no pod was
// bound twice, and every bound pod was bound by one of them.
func (f *faultEnv) checkBindings(r *faultReport, pods []v1.Pod) {
	f.t.Helper()
	// Keyed by uid: a pod re-created under the same name is another pod.
	ok, unknown := map[string]int{}, map[string]int{}
	f.mu.Lock()
	for _, p := range f.schedulers {
		for _, req := range p.Requests() {
			pod, isBinding := apiproxy.BoundPod(req)
			if isBinding && req.UID == "" {
				f.t.Errorf("the binding of %s carries no pod uid the proxy could read", pod)
			}
			switch {
			case !isBinding:
			case req.Status == http.StatusCreated:
				ok[req.UID]++
			case req.Status == 0:
				// Cut before the apiserver answered: it may have bound it.
				unknown[req.UID]++
			default:
				r.refusedBinds++
			}
		}
	}
	f.mu.Unlock()
	for uid, n := range ok {
		if n > 1 {
			r.doubleBinds++
			f.t.Errorf("pod uid %s was bound %d times", uid, n)
		}
	}
	for _, p := range bound(pods) {
		if uid := string(p.UID); ok[uid]+unknown[uid] == 0 {
			f.t.Errorf("pod %s/%s is bound to %s, but no scheduler instance bound it", p.Namespace, p.Name, p.Spec.NodeName)
		}
	}
}

// checkPlacements evaluates every pod afresh over the settled cluster with
// the scheduler's own configuration: no bound pod's node rejects it, and no
// pending pod has a feasible node.
func (f *faultEnv) checkPlacements(r *faultReport, pods []v1.Pod) {
	f.t.Helper()
	exists := f.nodeNames()
	cfg, err := explain.ParseConfig(manifests.SchedulerConfig)
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := explain.Open(f.ctx, explain.Options{Client: f.cs, Config: cfg})
	if err != nil {
		f.t.Fatal(err)
	}
	defer s.Close()
	for i := range pods {
		p := &pods[i]
		e, err := s.Explain(f.ctx, p)
		if err != nil {
			f.t.Fatalf("explaining %s: %v", p.Name, err)
		}
		switch {
		case p.Spec.NodeName != "" && !exists[p.Spec.NodeName]:
			r.wrong++
			f.t.Errorf("pod %s is bound to %s, which does not exist", p.Name, p.Spec.NodeName)
		case p.Spec.NodeName != "" && e.Bound != nil && e.Bound.Rejection != nil:
			r.wrong++
			f.t.Errorf("pod %s is bound to %s, which rejects it: %s %v", p.Name, p.Spec.NodeName, e.Bound.Rejection.Plugin, e.Bound.Rejection.Reasons)
		case p.Spec.NodeName == "" && len(e.Feasible) > 0:
			r.fitting++
			f.t.Errorf("pod %s is pending, but fits %d nodes (best %s)", p.Name, len(e.Feasible), e.Feasible[0].Node)
		}
	}
}

// checkScheduledEvents: no pod has two Scheduled events, so no two
// instances, and no instance twice, believe they bound it.
func (f *faultEnv) checkScheduledEvents() {
	f.t.Helper()
	events, err := f.cs.CoreV1().Events(metav1.NamespaceDefault).List(f.ctx, metav1.ListOptions{FieldSelector: "reason=Scheduled"})
	if err != nil {
		f.t.Fatal(err)
	}
	perPod := map[string]int{}
	for _, ev := range events.Items {
		perPod[ev.InvolvedObject.Name]++
	}
	for pod, n := range perPod {
		if n > 1 {
			f.t.Errorf("pod %s has %d Scheduled events, want at most 1", pod, n)
		}
	}
}

// schedulerFrames mark goroutines that belong to a scheduler instance (or
// to explain's, which the checks close): none may outlive it.
var schedulerFrames = []string{
	"k8s.io/kubernetes/pkg/scheduler",
	"k8s.io/kubernetes/cmd/kube-scheduler",
	"k8s.io/client-go/tools/leaderelection",
	"github.com/kube-placement/placement-scheduler/pkg/",
}

// checkGoroutines waits for the stopped instances' goroutines to end and
// returns how many did not.
func (f *faultEnv) checkGoroutines() int {
	f.t.Helper()
	var left []string
	_ = wait.PollUntilContextTimeout(f.ctx, 100*time.Millisecond, 15*time.Second, true, func(context.Context) (bool, error) {
		left = schedulerGoroutines()
		return len(left) == 0, nil
	})
	for _, g := range left {
		f.t.Errorf("goroutine left after the scheduler stopped:\n%s", g)
	}
	return len(left)
}

func schedulerGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if slices.ContainsFunc(schedulerFrames, func(frame string) bool { return strings.Contains(g, frame) }) {
			out = append(out, g)
		}
	}
	return out
}

// nodeNames is the set of the cluster's nodes now.
func (f *faultEnv) nodeNames() map[string]bool {
	f.t.Helper()
	nodes, err := f.cs.CoreV1().Nodes().List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, n := range nodes.Items {
		exists[n.Name] = true
	}
	return exists
}
