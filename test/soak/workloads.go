package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	poolLabel = "soak.placement.test/pool"
	zoneLabel = v1.LabelTopologyZone
	hostLabel = v1.LabelHostname
	maintKey  = "soak.placement.test/maintenance"
	appLabel  = "app"
)

func soakNode(i int) *v1.Node {
	name := fmt.Sprintf("soak-%02d", i)
	capacity := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("8"),
		v1.ResourceMemory: resource.MustParse("32Gi"),
		v1.ResourcePods:   resource.MustParse("110"),
	}
	pool := "a"
	if i%2 == 1 {
		pool = "b"
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			hostLabel: name,
			zoneLabel: fmt.Sprintf("zone-%d", i%3),
			poolLabel: pool,
		}},
		Status: v1.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
}

// workload is one Deployment or StatefulSet of the churn, with the replica
// range it is scaled within.
type workload struct {
	name     string
	kind     string // "Deployment" or "StatefulSet"
	min, max int32
	rule     func(app string) podRule
}

// podRule is the placement constraint a workload's pods carry.
type podRule struct {
	affinity     *v1.Affinity
	nodeSelector map[string]string
	tolerations  []v1.Toleration
}

func selectApp(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{appLabel: app}}
}

// The rule kinds PlacementPodAffinity keeps counts for (required anti-affinity
// per host, required affinity per zone, preferred terms), and the node rules
// relabelling and tainting exercise.
func plain(string) podRule {
	return podRule{tolerations: []v1.Toleration{{Key: maintKey, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}}}
}

func onePerHost(app string) podRule {
	return podRule{affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: selectApp(app), TopologyKey: hostLabel}},
	}}}
}

func oneZone(app string) podRule {
	return podRule{affinity: &v1.Affinity{PodAffinity: &v1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{LabelSelector: selectApp(app), TopologyKey: zoneLabel}},
	}}}
}

func preferSpread(app string) podRule {
	return podRule{affinity: &v1.Affinity{
		PodAntiAffinity: &v1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{
			{Weight: 50, PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: selectApp(app), TopologyKey: hostLabel}},
		}},
		NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
			{Weight: 20, Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: poolLabel, Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}}},
		}},
	}}
}

func poolA(string) podRule { return podRule{nodeSelector: map[string]string{poolLabel: "a"}} }

func workloads() []workload {
	return []workload{
		{name: "web-1", kind: "Deployment", min: 10, max: 120, rule: plain},
		{name: "web-2", kind: "Deployment", min: 10, max: 120, rule: plain},
		{name: "web-3", kind: "Deployment", min: 0, max: 80, rule: plain},
		{name: "spread-1", kind: "Deployment", min: 5, max: 35, rule: onePerHost},
		{name: "spread-2", kind: "Deployment", min: 5, max: 35, rule: onePerHost},
		{name: "zone-1", kind: "Deployment", min: 5, max: 40, rule: oneZone},
		{name: "zone-2", kind: "Deployment", min: 5, max: 40, rule: oneZone},
		{name: "prefer-1", kind: "Deployment", min: 5, max: 60, rule: preferSpread},
		{name: "prefer-2", kind: "Deployment", min: 5, max: 60, rule: preferSpread},
		{name: "pool-a", kind: "Deployment", min: 5, max: 40, rule: poolA},
		{name: "db-1", kind: "StatefulSet", min: 5, max: 5, rule: onePerHost},
		{name: "db-2", kind: "StatefulSet", min: 5, max: 5, rule: oneZone},
	}
}

func (w workload) template() v1.PodTemplateSpec {
	r := w.rule(w.name)
	return v1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appLabel: w.name}},
		Spec: v1.PodSpec{
			SchedulerName:                 schedulerName,
			Affinity:                      r.affinity,
			NodeSelector:                  r.nodeSelector,
			Tolerations:                   r.tolerations,
			TerminationGracePeriodSeconds: new(int64(0)),
			Containers: []v1.Container{{
				Name: "app", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: v1.ResourceList{
					v1.ResourceCPU:    resource.MustParse("50m"),
					v1.ResourceMemory: resource.MustParse("64Mi"),
				}},
			}},
		},
	}
}

func (w workload) deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(w.min), Selector: selectApp(w.name), Template: w.template(),
			RevisionHistoryLimit: new(int32(2)),
		},
	}
}

func (w workload) statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: namespace},
		Spec: appsv1.StatefulSetSpec{
			Replicas: new(w.min), Selector: selectApp(w.name), Template: w.template(),
			ServiceName: w.name, PodManagementPolicy: appsv1.ParallelPodManagement,
			RevisionHistoryLimit: new(int32(2)),
		},
	}
}
