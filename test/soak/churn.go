package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kube-placement/placement-scheduler/internal/apiproxy"
)

// soak creates the workloads, churns them for the duration with faults at
// their interval, samples every sampleEvery, then lets the cluster settle and
// checks the bindings.
func (s *soaker) soak(ctx context.Context) (*result, error) {
	logger := klog.FromContext(ctx)
	ws := workloads()
	for _, w := range ws {
		var err error
		if w.kind == "Deployment" {
			_, err = s.cs.AppsV1().Deployments(namespace).Create(ctx, w.deployment(), metav1.CreateOptions{})
		} else {
			_, err = s.cs.AppsV1().StatefulSets(namespace).Create(ctx, w.statefulSet(), metav1.CreateOptions{})
		}
		if err != nil {
			return nil, fmt.Errorf("creating %s %s: %w", w.kind, w.name, err)
		}
	}
	r := &result{o: s.o, started: s.began}
	rng := rand.New(rand.NewPCG(uint64(s.o.seed), 0))
	end := time.After(s.o.duration)
	scale := time.NewTicker(10 * time.Second)
	relabel := time.NewTicker(30 * time.Second)
	taint := time.NewTicker(45 * time.Second)
	// Rolls start half a fault interval after the faults, so that a
	// StatefulSet's pods are not re-created under their old names while a
	// fault has cut the scheduler's watch: kube-scheduler 1.37 exits then
	// (kubernetes/kubernetes#141255, docs/faults.md). -collide lines them
	// up to show it.
	roll := time.NewTicker(10 * time.Minute)
	if !s.o.collide && s.o.faultEvery > 0 {
		roll.Reset(s.o.faultEvery / 2)
	}
	sample := time.NewTicker(s.o.sampleEvery)
	var fault <-chan time.Time
	if s.o.faultEvery > 0 {
		t := time.NewTicker(s.o.faultEvery)
		defer t.Stop()
		fault = t.C
	}
	defer scale.Stop()
	defer relabel.Stop()
	defer taint.Stop()
	defer roll.Stop()
	defer sample.Stop()
	r.add(s.sample(ctx, ""))
	lastFault := ""
	injecting, injected := false, make(chan faultRun, 1)
	for i := 0; ; {
		var err error
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-end:
			if injecting {
				r.faults = append(r.faults, <-injected)
			}
			logger.Info("Churn is over; letting the cluster settle")
			return s.finish(ctx, r)
		case <-scale.C:
			w := ws[rng.IntN(len(ws))]
			if w.kind == "Deployment" {
				err = s.scale(ctx, w, w.min+rng.Int32N(w.max-w.min+1))
			}
		case <-relabel.C:
			err = s.relabel(ctx, rng)
		case <-taint.C:
			err = s.toggleTaint(ctx, rng)
		case <-roll.C:
			roll.Reset(10 * time.Minute)
			for _, w := range ws {
				if w.kind == "StatefulSet" || rng.IntN(3) == 0 {
					err = errorsJoin(err, s.roll(ctx, w))
				}
			}
		case <-fault:
			if injecting {
				break
			}
			// A fault runs beside the churn (slow binds last a minute); the
			// next one waits until it is over.
			f := faults[i%len(faults)]
			i++
			injecting = true
			lastFault = f.name
			logger.Info("Injecting a fault", "fault", f.name)
			go func(seed uint64) {
				start := time.Now()
				err := f.inject(ctx, s, rand.New(rand.NewPCG(seed, 1)))
				injected <- faultRun{name: f.name, at: start.Sub(r.started), took: time.Since(start), err: err}
			}(rng.Uint64())
		case f := <-injected:
			injecting = false
			r.faults = append(r.faults, f)
		case <-sample.C:
			r.add(s.sample(ctx, lastFault))
			lastFault = ""
			// Written as it goes, so that an interrupted soak keeps its samples.
			err = os.WriteFile(filepath.Join(s.o.out, "soak.csv"), []byte(r.csv()), 0o644)
		}
		if err != nil && ctx.Err() == nil {
			// The apiserver may be restarting: the churn goes on.
			logger.V(2).Info("Churn step failed", "err", err)
		}
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (s *soaker) scale(ctx context.Context, w workload, replicas int32) error {
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	_, err := s.cs.AppsV1().Deployments(namespace).Patch(ctx, w.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// roll changes the pod template, so the controller replaces every pod.
func (s *soaker) roll(ctx context.Context, w workload) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"soak.placement.test/rolled":%q}}}}}`, time.Now().Format(time.RFC3339))
	var err error
	if w.kind == "Deployment" {
		_, err = s.cs.AppsV1().Deployments(namespace).Patch(ctx, w.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	} else {
		_, err = s.cs.AppsV1().StatefulSets(namespace).Patch(ctx, w.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	}
	return err
}

func (s *soaker) randomNode(ctx context.Context, rng *rand.Rand) (*v1.Node, error) {
	nodes, err := s.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	if len(nodes.Items) == 0 {
		return nil, fmt.Errorf("no nodes")
	}
	return &nodes.Items[rng.IntN(len(nodes.Items))], nil
}

// relabel moves a node to the other pool: pool-a's pods there now break
// their nodeSelector (they keep running), and new ones go elsewhere.
func (s *soaker) relabel(ctx context.Context, rng *rand.Rand) error {
	node, err := s.randomNode(ctx, rng)
	if err != nil {
		return err
	}
	pool := "a"
	if node.Labels[poolLabel] == "a" {
		pool = "b"
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, poolLabel, pool)
	_, err = s.cs.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// toggleTaint adds or removes a NoSchedule maintenance taint that only the
// plain workloads tolerate.
func (s *soaker) toggleTaint(ctx context.Context, rng *rand.Rand) error {
	node, err := s.randomNode(ctx, rng)
	if err != nil {
		return err
	}
	var taints []v1.Taint
	had := false
	for _, t := range node.Spec.Taints {
		if t.Key == maintKey {
			had = true
			continue
		}
		taints = append(taints, t)
	}
	if !had {
		taints = append(taints, v1.Taint{Key: maintKey, Effect: v1.TaintEffectNoSchedule})
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"taints": taints}})
	if err != nil {
		return err
	}
	_, err = s.cs.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// fault is one of the fault tests' faults, sized so that the scheduler keeps
// its lease: a lost lease ends the process by design (TestFaultLeaderPartition
// covers it), and a restarted process would start the memory series anew.
type fault struct {
	name   string
	inject func(context.Context, *soaker, *rand.Rand) error
}

var faults = []fault{
	{"apiserver-restart", func(ctx context.Context, s *soaker, _ *rand.Rand) error {
		return s.restartAPIServer(ctx, time.Second)
	}},
	{"watch-relist", func(ctx context.Context, s *soaker, _ *rand.Rand) error {
		// The scheduler's watches break; the compaction makes their resource
		// version too old, so its informers list again.
		s.sched.Cut()
		defer s.sched.Heal()
		if _, err := s.cluster.Compact(ctx); err != nil {
			return err
		}
		return sleep(ctx, 3*time.Second)
	}},
	{"slow-binds", func(ctx context.Context, s *soaker, _ *rand.Rand) error {
		s.sched.SetDelay(func(r *http.Request) apiproxy.Delay {
			if apiproxy.IsBinding(r) {
				return apiproxy.Delay{After: time.Second}
			}
			return apiproxy.Delay{}
		})
		defer s.sched.SetDelay(nil)
		return sleep(ctx, time.Minute)
	}},
	{"node-deletion", func(ctx context.Context, s *soaker, rng *rand.Rand) error {
		node, err := s.randomNode(ctx, rng)
		if err != nil {
			return err
		}
		if err := s.cs.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}); err != nil {
			return err
		}
		// The kubelet removes the node's pods as the pod garbage collector
		// would; the node comes back a minute later, as a replaced machine.
		if err := sleep(ctx, time.Minute); err != nil {
			return err
		}
		node.ResourceVersion, node.UID = "", ""
		return wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := s.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), nil
		})
	}},
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish waits until every pod is bound or marked unschedulable and the
// picture holds still, takes the last sample and counts the bindings.
func (s *soaker) finish(ctx context.Context, r *result) (*result, error) {
	r.churned = time.Since(r.started)
	var last string
	stable := 0
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := s.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		r.final = countPods(pods.Items)
		key := fmt.Sprint(r.final)
		if key == last && r.final.unsettled == 0 {
			stable++
		} else {
			stable = 0
		}
		last = key
		return stable >= 5, nil
	})
	r.settled = err == nil
	r.add(s.sample(ctx, ""))
	for _, req := range s.sched.Requests() {
		if _, ok := apiproxy.BoundPod(req); !ok {
			continue
		}
		switch {
		case req.Status == 201:
			if r.boundUIDs == nil {
				r.boundUIDs = map[string]int{}
			}
			r.boundUIDs[req.UID]++
			r.bindings++
		case req.Status >= 400:
			r.refused++
		}
	}
	for uid, n := range r.boundUIDs {
		switch {
		case uid == "":
			r.unreadable += n
		case n > 1:
			r.doubleBinds++
		}
	}
	r.restarts = s.proc.Restarts()
	return r, os.WriteFile(filepath.Join(s.o.out, "soak.csv"), []byte(r.csv()), 0o644)
}

// podCounts is the namespace's pods by state.
type podCounts struct {
	total, bound, unschedulable, unsettled int
}

func countPods(pods []v1.Pod) podCounts {
	var c podCounts
	for i := range pods {
		p := &pods[i]
		c.total++
		switch {
		case p.Spec.NodeName != "":
			c.bound++
		case unschedulable(p):
			c.unschedulable++
		default:
			c.unsettled++
		}
	}
	return c
}

func unschedulable(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}
