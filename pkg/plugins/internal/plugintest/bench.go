package plugintest

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	upstreamnodeaffinity "k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
)

// BenchSizes are the cluster sizes every plugin benchmark runs at.
var BenchSizes = []int{500, 5000}

// BenchZones is how many zones BenchNodes spreads nodes over.
const BenchZones = 10

// BenchNodes returns n nodes in BenchZones zones, with hostname, zone and a
// rotating "disk" label; every tenth node carries a NoSchedule taint and
// every seventh a PreferNoSchedule one.
func BenchNodes(n int) []*v1.Node {
	nodes := make([]*v1.Node, n)
	for i := range nodes {
		name := fmt.Sprintf("node-%05d", i)
		node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			v1.LabelHostname:     name,
			v1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%BenchZones),
			"disk":               []string{"ssd", "hdd", "nvme"}[i%3],
		}}}
		if i%10 == 0 {
			node.Spec.Taints = append(node.Spec.Taints, v1.Taint{Key: "dedicated", Value: "gpu", Effect: v1.TaintEffectNoSchedule})
		}
		if i%7 == 0 {
			node.Spec.Taints = append(node.Spec.Taints, v1.Taint{Key: "spot", Effect: v1.TaintEffectPreferNoSchedule})
		}
		nodes[i] = node
	}
	return nodes
}

// BenchPods returns n pods spread round-robin over nodes, labelled app=app-(i%groups),
// in namespace "default". withTerms gives every fifth pod a required
// anti-affinity on hostname and a preferred affinity on zone for its own app.
func BenchPods(n, groups int, nodes []*v1.Node, withTerms bool) []*v1.Pod {
	pods := make([]*v1.Pod, n)
	for i := range pods {
		app := fmt.Sprintf("app-%d", i%groups)
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Namespace: "default", UID: types.UID(fmt.Sprintf("uid-%05d", i)), Labels: map[string]string{"app": app}},
			Spec:       v1.PodSpec{NodeName: nodes[i%len(nodes)].Name},
		}
		if withTerms && i%5 == 0 {
			sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
			p.Spec.Affinity = &v1.Affinity{
				PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: v1.LabelHostname}}},
				PodAffinity: &v1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{
					{Weight: 10, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: sel, TopologyKey: v1.LabelTopologyZone}},
				}},
			}
		}
		pods[i] = p
	}
	return pods
}

// Implementation builds one plugin over a cluster's handle.
type Implementation struct {
	Name string
	New  func(tb testing.TB, h fwk.Handle) fwk.Plugin
}

// BenchCase is one workload: existing pods, and the pod to place.
type BenchCase struct {
	Name string
	Pod  *v1.Pod
	// Pods builds the existing pods for a set of nodes; nil means none.
	Pods func(nodes []*v1.Node) []*v1.Pod
}

// BenchPlugin measures, for every size, case and implementation, one
// scheduling cycle's work over all nodes: PreFilter then Filter on every node,
// and PreScore, Score on every node and NormalizeScore. Names put the
// implementation last (…/impl=ours), so `benchstat -col /impl` compares them.
func BenchPlugin(b *testing.B, impls []Implementation, cases []BenchCase) {
	for _, size := range BenchSizes {
		nodes := BenchNodes(size)
		for _, c := range cases {
			var pods []*v1.Pod
			if c.Pods != nil {
				pods = c.Pods(nodes)
			}
			cluster := NewCluster(b, pods, nodes, nil)
			for _, impl := range impls {
				pl := impl.New(b, cluster.Handle)
				prefix := fmt.Sprintf("%s/nodes=%d", c.Name, size)
				if f, ok := pl.(fwk.FilterPlugin); ok {
					b.Run(prefix+"/Filter/impl="+impl.Name, func(b *testing.B) {
						benchFilter(b, f, c.Pod, cluster.Nodes)
					})
				}
				if s, ok := pl.(fwk.ScorePlugin); ok {
					b.Run(prefix+"/Score/impl="+impl.Name, func(b *testing.B) {
						benchScore(b, s, c.Pod, cluster.Nodes)
					})
				}
			}
		}
	}
}

func benchFilter(b *testing.B, pl fwk.FilterPlugin, pod *v1.Pod, nodes []fwk.NodeInfo) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		Filter(ctx, pl, pod, nodes)
	}
}

func benchScore(b *testing.B, pl fwk.ScorePlugin, pod *v1.Pod, nodes []fwk.NodeInfo) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, s := Score(ctx, pl, pod, nodes); !s.IsSuccess() {
			b.Fatal(Describe(s))
		}
	}
}

// BenchPluginCycles is BenchPlugin for plugins that keep state across cycles:
// before each measured cycle one node changes (a churn pod is bound to or
// leaves the next node in turn, through the scheduler cache) and the snapshot
// is refreshed, as between two scheduling cycles. Both implementations pay
// the same refresh; a plugin cannot get away with answers from a stale
// snapshot, nor pretend the cluster never changes.
func BenchPluginCycles(b *testing.B, impls []Implementation, cases []BenchCase, churn *v1.Pod) {
	for _, size := range BenchSizes {
		nodes := BenchNodes(size)
		for _, c := range cases {
			var pods []*v1.Pod
			if c.Pods != nil {
				pods = c.Pods(nodes)
			}
			for _, impl := range impls {
				live := NewLiveCluster(b)
				for _, n := range nodes {
					live.Cache.AddNode(live.Logger, n)
				}
				for _, p := range pods {
					if err := live.Cache.AddPod(live.Logger, p); err != nil {
						b.Fatal(err)
					}
				}
				pl := impl.New(b, live.Handle)
				prefix := fmt.Sprintf("%s/nodes=%d", c.Name, size)
				if f, ok := pl.(fwk.FilterPlugin); ok {
					b.Run(prefix+"/Filter/impl="+impl.Name, func(b *testing.B) {
						benchCycles(b, live, churn, func(infos []fwk.NodeInfo) { Filter(context.Background(), f, c.Pod, infos) })
					})
				}
				if s, ok := pl.(fwk.ScorePlugin); ok {
					b.Run(prefix+"/Score/impl="+impl.Name, func(b *testing.B) {
						benchCycles(b, live, churn, func(infos []fwk.NodeInfo) {
							if _, st := Score(context.Background(), s, c.Pod, infos); !st.IsSuccess() {
								b.Fatal(Describe(st))
							}
						})
					})
				}
			}
		}
	}
}

func benchCycles(b *testing.B, live *LiveCluster, churn *v1.Pod, cycle func([]fwk.NodeInfo)) {
	infos := live.Cycle(b)
	b.ReportAllocs()
	placed := (*v1.Pod)(nil)
	i := 0
	for b.Loop() {
		if placed != nil {
			if err := live.Cache.RemovePod(live.Logger, placed); err != nil {
				b.Fatal(err)
			}
			placed = nil
		} else {
			placed = churn.DeepCopy()
			placed.Spec.NodeName = infos[i%len(infos)].Node().Name
			i++
			if err := live.Cache.AddPod(live.Logger, placed); err != nil {
				b.Fatal(err)
			}
		}
		infos = live.Cycle(b)
		cycle(infos)
	}
	if placed != nil {
		if err := live.Cache.RemovePod(live.Logger, placed); err != nil {
			b.Fatal(err)
		}
	}
}

// InTreeNodeAffinity is the in-tree NodeAffinity plugin with default args:
// the oracle of both PlacementNodeAffinity and PlacementNodeSelector, since
// upstream checks nodeSelector in NodeAffinity.
var InTreeNodeAffinity = Implementation{Name: "upstream", New: func(tb testing.TB, h fwk.Handle) fwk.Plugin {
	pl, err := upstreamnodeaffinity.New(context.Background(), &config.NodeAffinityArgs{}, h, InTreeFeatures())
	if err != nil {
		tb.Fatal(err)
	}
	return pl
}}
