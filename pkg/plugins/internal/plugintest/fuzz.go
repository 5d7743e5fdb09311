package plugintest

import (
	"context"
	"encoding/json"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
)

// FuzzSeeds are starting inputs for the plugins' fuzz targets: a random
// cluster seed, a pod as JSON and a node as JSON.
var FuzzSeeds = []struct {
	Seed int64
	Pod  string
	Node string
}{
	{1, `{}`, `{"metadata":{"name":"odd","labels":{"zone":""}},"spec":{"taints":[{"key":"","effect":""}]}}`},
	{2, `{"spec":{"nodeSelector":{"zone":"z1"},"tolerations":[{"operator":"Exists"}]}}`, `{}`},
	{3, `{"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}]}}}}}`, `{}`},
	{4, `{"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"zone","labelSelector":{"matchLabels":{"app":"a"}}}]}}}}`, `{}`},
	{5, `{"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"gen","operator":"Gt","values":["x","y"]}]}]}}}}}`, `{}`},
	{6, `{"spec":{"affinity":{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":-5,"podAffinityTerm":{"topologyKey":"","labelSelector":{"matchExpressions":[{"key":"app","operator":"Bogus"}]}}}]}}}}`, `{}`},
}

// AddFuzzSeeds adds FuzzSeeds to f.
func AddFuzzSeeds(f *testing.F) {
	for _, s := range FuzzSeeds {
		f.Add(s.Seed, []byte(s.Pod), []byte(s.Node))
	}
}

// FuzzPod builds an arbitrary cluster from seed, plus the node nodeJSON
// decodes to, and decodes podJSON as the incoming pod (falling back to a
// random one). The inputs need not be valid API objects: plugins must
// survive anything.
func FuzzPod(t *testing.T, seed int64, podJSON, nodeJSON []byte) (*Cluster, *v1.Pod) {
	g := NewGen(seed)
	nodes := g.Nodes(1 + g.Intn(6))
	var extra v1.Node
	if err := json.Unmarshal(nodeJSON, &extra); err == nil {
		// A prefix keeps the name apart from the generated nodes' names.
		extra.Name = "fuzz-" + extra.Name
		nodes = append(nodes, &extra)
	}
	placed := g.PlacedPods(8, nodes, 0.5)
	var pod v1.Pod
	if err := json.Unmarshal(podJSON, &pod); err != nil {
		pod = *g.AffinityPod("fuzz", 0.8)
		pod.Spec.Tolerations = []v1.Toleration{g.Toleration()}
	}
	if pod.Namespace == "" {
		pod.Namespace = "ns1"
	}
	// Placed pods with arbitrary specs are fed in too, as existing pods.
	if len(placed) > 0 && len(podJSON) > 0 {
		clone := pod.DeepCopy()
		clone.Name, clone.UID, clone.Spec.NodeName = "fuzz-placed", "fuzz-placed", nodes[0].Name
		placed = append(placed, clone)
	}
	return NewCluster(t, placed, nodes, g.Namespaces()), &pod
}

// Exercise runs every extension point of pl that it implements, over the
// whole cluster, and only requires that nothing panics.
func Exercise(t *testing.T, pl fwk.Plugin, cluster *Cluster, pod *v1.Pod) {
	ctx := context.Background()
	if f, ok := pl.(fwk.FilterPlugin); ok {
		Filter(ctx, f, pod, cluster.Nodes)
	}
	if s, ok := pl.(fwk.ScorePlugin); ok {
		Score(ctx, s, pod, cluster.Nodes)
	}
	if e, ok := pl.(fwk.EnqueueExtensions); ok {
		events, _ := e.EventsToRegister(ctx)
		for _, ev := range events {
			if ev.QueueingHintFn != nil {
				for _, change := range changes(cluster, ev.Event) {
					_, _ = ev.QueueingHintFn(klog.Background(), pod, change[0], change[1])
				}
			}
		}
	}
	if s, ok := pl.(fwk.SignPlugin); ok {
		s.SignPod(ctx, pod)
	}
}

// changes returns (old, new) pairs of objects of the event's resource drawn
// from the cluster, for the actions the event covers: additions (nil, new),
// updates from one object to the next, deletions (old, nil).
func changes(cluster *Cluster, event fwk.ClusterEvent) [][2]any {
	var objs []any
	for _, ni := range cluster.Nodes {
		if event.Resource == fwk.Node {
			objs = append(objs, ni.Node())
			continue
		}
		for _, p := range ni.GetPods() {
			objs = append(objs, p.GetPod())
		}
	}
	var out [][2]any
	for i, o := range objs {
		if event.ActionType&fwk.Add != 0 {
			out = append(out, [2]any{nil, o})
		}
		if event.ActionType&fwk.Delete != 0 {
			out = append(out, [2]any{o, nil})
		}
		if event.ActionType&fwk.Update != 0 && i > 0 {
			out = append(out, [2]any{objs[i-1], o})
		}
	}
	return out
}

// FuzzPlugin is the fuzz target every plugin package runs: build the plugin
// with newPlugin over an arbitrary cluster and exercise it with an arbitrary
// pod; nothing may panic.
func FuzzPlugin(f *testing.F, newPlugin func(context.Context, runtime.Object, fwk.Handle) (fwk.Plugin, error)) {
	AddFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed int64, podJSON, nodeJSON []byte) {
		cluster, pod := FuzzPod(t, seed, podJSON, nodeJSON)
		pl, err := newPlugin(context.Background(), nil, cluster.Handle)
		if err != nil {
			t.Fatal(err)
		}
		Exercise(t, pl, cluster, pod)
	})
}
