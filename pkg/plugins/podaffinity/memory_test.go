package podaffinity

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	upstream "k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// realisticPod is a pod as a Deployment's controller and the kubelet leave
// it: owner, template hash, annotations, one container with probes, env,
// mounts and limits, a projected token volume, status with conditions. Every
// third pod has required hostname anti-affinity against its own app, every
// fifth a preferred zone anti-affinity.
func realisticPod(i, apps int, node string) *v1.Pod {
	app := fmt.Sprintf("app-%d", i%apps)
	hash := fmt.Sprintf("%010x", (i%apps)*7919)
	name := fmt.Sprintf("%s-%s-%05d", app, hash, i)
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: fmt.Sprintf("team-%d", i%20), UID: types.UID(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)),
			Labels:          map[string]string{"app": app, "pod-template-hash": hash, "tier": "backend", "version": "v1.2.3"},
			Annotations:     map[string]string{"checksum/config": strings.Repeat("ab", 32), "prometheus.io/scrape": "true", "kubectl.kubernetes.io/restartedAt": "2026-11-30T10:00:00Z"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-" + hash, UID: types.UID("rs-" + app), Controller: ptr.To(true)}},
		},
		Spec: v1.PodSpec{
			NodeName:           node,
			SchedulerName:      "placement-scheduler",
			ServiceAccountName: app,
			Containers: []v1.Container{{
				Name: "app", Image: "registry.example.com/team/" + app + ":v1.2.3",
				Args:  []string{"--port=8080", "--log-level=info", "--config=/etc/app/config.yaml"},
				Env:   []v1.EnvVar{{Name: "POD_NAME", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}}, {Name: "MODE", Value: "production"}, {Name: "REGION", Value: "eu-west-1"}},
				Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: v1.ProtocolTCP}},
				Resources: v1.ResourceRequirements{
					Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("256Mi")},
				},
				VolumeMounts:   []v1.VolumeMount{{Name: "config", MountPath: "/etc/app"}, {Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
				LivenessProbe:  &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}},
				ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}}},
			}},
			Volumes: []v1.Volume{
				{Name: "config", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: app + "-config"}}}},
				{Name: "kube-api-access", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{Sources: []v1.VolumeProjection{
					{ServiceAccountToken: &v1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
					{ConfigMap: &v1.ConfigMapProjection{LocalObjectReference: v1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []v1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				}}}},
			},
			Tolerations: []v1.Toleration{
				{Key: v1.TaintNodeNotReady, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: v1.TaintNodeUnreachable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			},
		},
		Status: v1.PodStatus{
			Phase: v1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), HostIP: "192.168.0.1",
			Conditions:        []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionTrue}, {Type: v1.PodInitialized, Status: v1.ConditionTrue}, {Type: v1.ContainersReady, Status: v1.ConditionTrue}, {Type: v1.PodReady, Status: v1.ConditionTrue}},
			ContainerStatuses: []v1.ContainerStatus{{Name: "app", Ready: true, Image: "registry.example.com/team/" + app + ":v1.2.3", ImageID: "registry.example.com/team/" + app + "@sha256:" + strings.Repeat("0f", 32), ContainerID: "containerd://" + strings.Repeat("9e", 32)}},
		},
	}
	if i%3 == 0 {
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: v1.LabelHostname}},
		}}
	}
	if i%5 == 0 {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{}}
		}
		p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []v1.WeightedPodAffinityTerm{{
			Weight: 10, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: sel, TopologyKey: v1.LabelTopologyZone},
		}}
	}
	return p
}

// memoryCluster fills a live cache with nodes and pods (pods round-robin).
func memoryCluster(tb testing.TB, nodes, pods, apps int) (*plugintest.LiveCluster, []*v1.Node) {
	c := plugintest.NewLiveCluster(tb)
	ns := plugintest.BenchNodes(nodes)
	for _, n := range ns {
		c.Cache.AddNode(c.Logger, n)
	}
	for i := range pods {
		if err := c.Cache.AddPod(c.Logger, realisticPod(i, apps, ns[i%nodes].Name)); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 20 {
		c.SetNamespace(tb, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%d", i), Labels: map[string]string{"team": fmt.Sprint(i)}}})
	}
	return c, ns
}

// cyclePlugins is the extension points one scheduling cycle runs.
type cyclePlugins interface {
	fwk.PreFilterPlugin
	fwk.FilterPlugin
	fwk.PreScorePlugin
}

// runCycle runs PreFilter, Filter on a few nodes, and PreScore for pod over
// the snapshot, as one cycle does.
func runCycle(ctx context.Context, tb testing.TB, pl cyclePlugins, pod *v1.Pod, nodes []fwk.NodeInfo) {
	state := framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, state, pod, nodes); !s.IsSuccess() && !s.IsSkip() {
		tb.Fatalf("PreFilter: %v", s)
	}
	for _, n := range nodes[:min(len(nodes), 16)] {
		pl.Filter(ctx, state, pod, n)
	}
	if s := pl.PreScore(ctx, state, pod, nodes); !s.IsSuccess() && !s.IsSkip() {
		tb.Fatalf("PreScore: %v", s)
	}
}

// BenchmarkRetainedHeap reports what PlacementPodAffinity keeps between
// cycles at Kubernetes' supported limits (5,000 nodes, 150,000 pods of a
// realistic size), beside the heap of the scheduler cache itself and what the
// in-tree plugin keeps (its state lives in the cycle). Incoming pods come in
// 64 shapes (a Deployment each), each three times, with one pod bound after
// every cycle. go test -run '^$' -bench RetainedHeap -benchtime 1x ./pkg/plugins/podaffinity
func BenchmarkRetainedHeap(b *testing.B) {
	const nodes, pods, apps, shapes = 5000, 150000, 500, 64
	for range b.N {
		base := liveHeap()
		c, ns := memoryCluster(b, nodes, pods, apps)
		c.Cycle(b)
		cacheHeap := liveHeap() - base
		ctx := context.Background()
		next := pods
		retained := func(pl cyclePlugins) int64 {
			for round := range 3 {
				for k := range shapes {
					pod := realisticPod(k, apps, "")
					pod.Name, pod.UID = fmt.Sprintf("incoming-%d-%d", round, k), types.UID(fmt.Sprintf("incoming-%d-%d-%d", round, k, next))
					runCycle(ctx, b, pl, pod, c.Cycle(b))
					bound := realisticPod(next, apps, ns[next%nodes].Name)
					if err := c.Cache.AddPod(c.Logger, bound); err != nil {
						b.Fatal(err)
					}
					next++
				}
			}
			c.Cycle(b)
			with := liveHeap()
			runtime.KeepAlive(pl)
			return with
		}
		ours, err := NewWithArgs(c.Handle, Args{})
		if err != nil {
			b.Fatal(err)
		}
		withOurs := retained(ours)
		views, entries := ours.index.size()
		ours = nil
		oursHeap := withOurs - liveHeap()
		inTree, err := upstream.New(ctx, &config.InterPodAffinityArgs{HardPodAffinityWeight: 1}, c.Handle, plugintest.InTreeFeatures())
		if err != nil {
			b.Fatal(err)
		}
		withInTree := retained(inTree.(cyclePlugins))
		inTree = nil
		inTreeHeap := withInTree - liveHeap()
		b.ReportMetric(mib(cacheHeap), "MiB-cache")
		b.ReportMetric(mib(oursHeap), "MiB-ours")
		b.ReportMetric(mib(inTreeHeap), "MiB-intree")
		b.ReportMetric(100*float64(oursHeap)/float64(cacheHeap), "%-of-cache")
		b.ReportMetric(float64(views), "views")
		b.ReportMetric(float64(entries), "entries")
	}
}
