package plugintest

import (
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// RealisticPod is the i-th pod of apps applications, on node, as a
// Deployment's controller and the kubelet leave it: owner, template hash, annotations, one container with probes, env,
// mounts and limits, a projected token volume, status with conditions. Every
// third pod has required hostname anti-affinity against its own app, every
// fifth a preferred zone anti-affinity.
func RealisticPod(i, apps int, node string) *v1.Pod {
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

// NewRealisticCluster is a LiveCluster holding nodes BenchNodes and pods
// RealisticPods of apps applications (round-robin over the nodes), in 20
// labelled namespaces team-0 to team-19.
func NewRealisticCluster(tb testing.TB, nodes, pods, apps int) (*LiveCluster, []*v1.Node) {
	c := NewLiveCluster(tb)
	ns := BenchNodes(nodes)
	for _, n := range ns {
		c.Cache.AddNode(c.Logger, n)
	}
	for i := range pods {
		if err := c.Cache.AddPod(c.Logger, RealisticPod(i, apps, ns[i%nodes].Name)); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 20 {
		c.SetNamespace(tb, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%d", i), Labels: map[string]string{"team": fmt.Sprint(i)}}})
	}
	return c, ns
}
