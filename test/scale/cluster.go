package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

const (
	ourScheduler = "placement-scheduler"
	zones        = 50
	stride       = 167
	pendingPods  = 20
)

// shape is the cluster the commands run against: nodes in zones, one app per
// node index, each app's pods on distinct nodes, so that every node holds
// podsPerNode pods and required anti-affinity holds where pods carry it.
type shape struct {
	nodes, podsPerNode, namespaces int
}

func newShape(o options) shape {
	return shape{nodes: o.nodes, podsPerNode: o.podsPerNode, namespaces: max(1, o.nodes/50)}
}

func nodeName(i int) string { return fmt.Sprintf("node-%05d", i) }
func appName(a int) string  { return fmt.Sprintf("app-%05d", a) }
func (s shape) namespace(a int) string {
	return fmt.Sprintf("ns-%03d", a%s.namespaces)
}

// populate creates the namespaces, nodes and pods: pods bound through
// spec.nodeName, as if scheduled, the mix of rules the commands meet.
func populate(ctx context.Context, cs kubernetes.Interface, s shape) error {
	logger := klog.FromContext(ctx)
	for i := range s.namespaces {
		ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns-%03d", i)}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := parallel(ctx, s.nodes, func(i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, node(i), metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("creating nodes: %w", err)
	}
	logger.Info("Created nodes", "nodes", s.nodes, "took", time.Since(start))
	start = time.Now()
	total := s.nodes * s.podsPerNode
	if err := parallel(ctx, total, func(k int) error {
		_, err := cs.CoreV1().Pods(s.namespace(k%s.nodes)).Create(ctx, s.pod(k), metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("creating pods: %w", err)
	}
	logger.Info("Created pods", "pods", total, "took", time.Since(start))
	for i := range pendingPods {
		p := pendingPod(i)
		if _, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// breakRules makes some running pods drift: two nodes tainted NoSchedule (no
// pod tolerates it) and two relabelled off the disk=ssd selector of some apps.
func breakRules(ctx context.Context, cs kubernetes.Interface, s shape) error {
	for _, i := range []int{s.nodes / 2, s.nodes/2 + 1} {
		n, err := cs.CoreV1().Nodes().Get(ctx, nodeName(i), metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: "maintenance", Value: "true", Effect: v1.TaintEffectNoSchedule})
		if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	for _, i := range []int{s.nodes/2 + 2, s.nodes/2 + 3} {
		n, err := cs.CoreV1().Nodes().Get(ctx, nodeName(i), metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Labels["disk"] = "hdd"
		if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func node(i int) *v1.Node {
	name := nodeName(i)
	capacity := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("8"),
		v1.ResourceMemory: resource.MustParse("32Gi"),
		v1.ResourcePods:   resource.MustParse("110"),
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			v1.LabelHostname:       name,
			v1.LabelTopologyZone:   fmt.Sprintf("zone-%02d", i%zones),
			v1.LabelTopologyRegion: "region-1",
			"disk":                 "ssd",
		}},
		Status: v1.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
}

// pod k is replica k/nodes of app k%nodes, on node (app + replica·stride) mod
// nodes: an app's 30 replicas land on distinct nodes, each node gets
// podsPerNode pods. A quarter of the apps carry required hostname
// anti-affinity, a quarter preferred zone anti-affinity, a tenth the
// disk=ssd selector; one in twenty is the default scheduler's.
func (s shape) pod(k int) *v1.Pod {
	app, replica := k%s.nodes, k/s.nodes
	name := fmt.Sprintf("%s-%d", appName(app), replica)
	labels := map[string]string{"app": appName(app), "pod-template-hash": "5d8f9c7b6"}
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.namespace(app), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: appName(app) + "-5d8f9c7b6",
				UID: "00000000-0000-0000-0000-000000000001", Controller: ptr.To(true),
			}},
		},
		Spec: v1.PodSpec{
			NodeName:      nodeName((app + replica*stride) % s.nodes),
			SchedulerName: ourScheduler,
			Containers: []v1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Resources: v1.ResourceRequirements{
				Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")},
			}}},
		},
	}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": appName(app)}}
	switch app % 4 {
	case 0:
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: selector, TopologyKey: v1.LabelHostname}},
		}}
	case 1:
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{
				Weight: 100, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: selector, TopologyKey: v1.LabelTopologyZone},
			}},
		}}
	}
	if app%10 == 5 {
		p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	}
	if app%20 == 3 {
		p.Spec.SchedulerName = v1.DefaultSchedulerName
	}
	return p
}

// pendingPod asks for a node label no node has.
func pendingPod(i int) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pending-%d", i), Namespace: "ns-000"},
		Spec: v1.PodSpec{
			SchedulerName: ourScheduler,
			NodeSelector:  map[string]string{"pool": "gpu"},
			Containers:    []v1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
}

// parallel runs do(0..n-1) on a few workers and returns the first error.
func parallel(ctx context.Context, n int, do func(int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// fastClient writes protobuf without client-side rate limits: populating is
// not what is measured.
func fastClient(cfg *rest.Config) (kubernetes.Interface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	return kubernetes.NewForConfig(cfg)
}
