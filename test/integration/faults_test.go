package integration

import (
	"context"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kube-placement/placement-scheduler/internal/apiproxy"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
)

// The TestFault tests give our scheduler, while the fault workload arrives,
// one fault of production each, and then check the settled cluster the same
// way (faultEnv.verify): no pod bound twice, no bound pod on a node that
// rejects it now, no pending pod that fits, PlacementPodAffinity's kept
// counts equal to a fresh count, no goroutine of the scheduler left once it
// stopped. Each logs a one-line report; docs/faults.md lists them.

// run creates the workload, gives the fault once a third of it is bound, and
// returns when both the fault and the workload's arrival are over.
func (f *faultEnv) run(fault func()) time.Time {
	f.t.Helper()
	created := make(chan error, 1)
	go func() { created <- f.createPods(0, faultPods) }()
	f.waitBound(faultPods / 3)
	start := time.Now()
	fault()
	f.t.Logf("fault given in %v", time.Since(start).Round(100*time.Millisecond))
	if err := <-created; err != nil {
		f.t.Fatal(err)
	}
	f.t.Logf("workload created %v after the fault began", time.Since(start).Round(100*time.Millisecond))
	return time.Now()
}

// TestFaultAPIServerRestart: the apiserver stops for two seconds and comes
// back on the same etcd (an upgrade), while pods are being scheduled.
func TestFaultAPIServerRestart(t *testing.T) {
	f := newFaultEnv(t)
	s, _ := f.startScheduler(nil, false)
	end := f.run(func() { f.restartAPIServer(2 * time.Second) })
	r := &faultReport{fault: "APIServerRestart", recovery: f.waitSettled(faultPods).Sub(end)}
	f.verify(r, s)
}

// TestFaultWatchRelist: the scheduler loses its watches while the cluster
// moves on (pods deleted, more created and bound by no one, nodes
// relabelled) and etcd compacts its history, so that its informers' watches
// cannot resume and must list again, replacing the cache's pods in bulk: the
// place where a kept count could drift from the truth. Without the
// apiserver's watch cache, a watch resumes from etcd itself.
func TestFaultWatchRelist(t *testing.T) {
	f := newFaultEnv(t, "--watch-cache=false")
	s, p := f.startScheduler(nil, false)
	var healed time.Time
	end := f.run(func() {
		p.Cut()
		pods, err := f.pods(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var gone []v1.Pod
		for i, pod := range bound(pods) {
			if i%8 == 0 {
				gone = append(gone, pod)
			}
		}
		f.deletePods(gone)
		for i := 0; i < faultNodes; i += 7 {
			f.patchNode(faultNode(i).Name, func(n *v1.Node) { n.Labels["fault.placement.test/relabelled"] = "true" })
		}
		time.Sleep(time.Second)
		if _, err := f.cluster.Compact(f.ctx); err != nil {
			t.Fatal(err)
		}
		p.Heal()
		healed = time.Now()
		t.Logf("while cut off: %d pods deleted, etcd compacted", len(gone))
	})
	r := &faultReport{fault: "WatchRelist", recovery: f.waitSettled(faultPods - len(f.deleted)).Sub(end)}
	relists := 0
	for _, req := range p.Requests() {
		if req.At.After(healed) && req.Path == "/api/v1/pods" && isList(req) {
			relists++
		}
	}
	if relists == 0 {
		t.Error("the scheduler did not list pods again after its watches expired: the fault did not happen")
	}
	t.Logf("the scheduler listed pods %d time(s) after the heal", relists)
	f.verify(r, s)
}

// isList tells a list, including a watch that sends the initial state.
func isList(r apiproxy.Request) bool {
	return !strings.Contains(r.RawQuery, "watch=true") || strings.Contains(r.RawQuery, "sendInitialEvents=true")
}

// TestFaultLeaderPartition: the leader loses the apiserver for twice its
// lease duration while binds are in flight (their answers are slow, so the
// cut loses some that the apiserver already made). It must stop; the
// standby takes over when the lease expires; the old leader, restarted as
// its kubelet would restart it, joins as the standby.
func TestFaultLeaderPartition(t *testing.T) {
	f := newFaultEnv(t)
	flags := []string{
		"--leader-elect-lease-duration=" + leaseDuration.String(),
		"--leader-elect-renew-deadline=3s",
		"--leader-elect-retry-period=500ms",
	}
	a, pa := f.startScheduler(nil, true, flags...)
	b, pb := f.startScheduler(nil, true, flags...)
	instances := []*localscheduler.Scheduler{a, b}
	leader, path := a, pa
	if f.waitLeader(instances, "", 30*time.Second) == b {
		leader, path = b, pb
	}
	path.SetDelay(func(r *http.Request) apiproxy.Delay {
		if apiproxy.IsBinding(r) {
			return apiproxy.Delay{After: 300 * time.Millisecond}
		}
		return apiproxy.Delay{}
	})
	end := f.run(func() {
		path.Cut()
		cut := time.Now()
		select {
		case <-leader.Done():
			t.Logf("the cut-off leader stopped after %v: %v", time.Since(cut).Round(10*time.Millisecond), leader.Err())
		case <-time.After(2 * leaseDuration):
			t.Fatalf("the cut-off leader still runs %v after the cut", 2*leaseDuration)
		}
		next := f.waitLeader(instances, leader.Identity(), 2*leaseDuration+5*time.Second)
		t.Logf("%s took over %v after the cut", next.Identity(), time.Since(cut).Round(10*time.Millisecond))
		time.Sleep(time.Until(cut.Add(2 * leaseDuration)))
		path.SetDelay(nil)
		path.Heal()
		restarted, _ := f.startScheduler(path, true, flags...)
		instances = append(instances, restarted)
	})
	r := &faultReport{fault: "LeaderPartition", recovery: f.waitSettled(faultPods).Sub(end)}
	f.verify(r, instances...)
}

// TestFaultSlowBinds: every binding takes 1.5 s, held back before the
// apiserver sees it for half the pods and after it acted for the other half
// (the watch then reports the pod bound before the bind returns), so
// assumed pods pile up.
func TestFaultSlowBinds(t *testing.T) {
	f := newFaultEnv(t)
	s, p := f.startScheduler(nil, false)
	p.SetDelay(func(r *http.Request) apiproxy.Delay {
		if !apiproxy.IsBinding(r) {
			return apiproxy.Delay{}
		}
		h := fnv.New32a()
		h.Write([]byte(r.URL.Path))
		if h.Sum32()%2 == 0 {
			return apiproxy.Delay{Before: 1500 * time.Millisecond}
		}
		return apiproxy.Delay{After: 1500 * time.Millisecond}
	})
	end := f.run(func() {})
	r := &faultReport{fault: "SlowBinds", recovery: f.waitSettled(faultPods).Sub(end)}
	peak := peakBindings(p.Requests())
	if peak < 50 {
		t.Errorf("at most %d binds were in flight at once: the fault did not pile assumed pods up", peak)
	}
	t.Logf("up to %d binds in flight at once", peak)
	f.verify(r, s)
}

// peakBindings is the largest number of binding requests in flight at once.
func peakBindings(reqs []apiproxy.Request) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, r := range reqs {
		if _, ok := apiproxy.BoundPod(r); ok {
			edges = append(edges, edge{r.At, 1}, edge{r.At.Add(r.Took), -1})
		}
	}
	slices.SortFunc(edges, func(a, b edge) int { return a.at.Compare(b.at) })
	peak, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

// TestFaultNodeDeletion: a sixth of the nodes are deleted while binds to
// them are in flight (binding answers take a second). Pods bound to a node
// that is gone are then deleted and created again, as the pod garbage
// collector and their ReplicaSet would; the new ones must land on nodes that
// exist.
func TestFaultNodeDeletion(t *testing.T) {
	f := newFaultEnv(t)
	s, p := f.startScheduler(nil, false)
	p.SetDelay(func(r *http.Request) apiproxy.Delay {
		if apiproxy.IsBinding(r) {
			return apiproxy.Delay{After: time.Second}
		}
		return apiproxy.Delay{}
	})
	end := f.run(func() {
		for i := 0; i < faultNodes; i += 6 {
			if err := f.cs.CoreV1().Nodes().Delete(f.ctx, faultNode(i).Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		p.SetDelay(nil)
	})
	orphans := f.collectOrphans()
	t.Logf("%d pods were bound to nodes deleted under them; created again", len(orphans))
	for _, o := range orphans {
		i, err := strconv.Atoi(o.Labels[indexLabel])
		if err != nil {
			t.Fatalf("pod %s: %s: %v", o.Name, indexLabel, err)
		}
		if err := f.createRetrying(faultPod(o.Name+"-again", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := &faultReport{fault: "NodeDeletion", recovery: f.waitSettled(faultPods).Sub(end)}
	f.verify(r, s)
}

// collectOrphans waits for the binds in flight to end, then deletes the
// pods bound to nodes that no longer exist and returns them.
func (f *faultEnv) collectOrphans() []v1.Pod {
	f.t.Helper()
	f.mu.Lock()
	proxies := f.schedulers
	f.mu.Unlock()
	err := wait.PollUntilContextTimeout(f.ctx, 100*time.Millisecond, faultTimeout, true, func(context.Context) (bool, error) {
		for _, p := range proxies {
			if p.InFlight(func(r apiproxy.Request) bool { _, ok := apiproxy.BoundPod(r); return ok }) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		f.t.Fatalf("binds still in flight after %v", faultTimeout)
	}
	exists := f.nodeNames()
	pods, err := f.pods(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var orphans []v1.Pod
	for _, p := range bound(pods) {
		if !exists[p.Spec.NodeName] {
			orphans = append(orphans, p)
		}
	}
	f.deletePods(orphans)
	return orphans
}
