package podaffinity_test

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
)

const zone = v1.LabelTopologyZone

// Four nodes: n1 and n2 in zone z1, n3 in z2, n4 without a zone label.
func testNodes() []*v1.Node {
	node := func(name, z string) *v1.Node {
		w := st.MakeNode().Name(name).Label(v1.LabelHostname, name)
		if z != "" {
			w = w.Label(zone, z)
		}
		return w.Obj()
	}
	return []*v1.Node{node("n1", "z1"), node("n2", "z1"), node("n3", "z2"), node("n4", "")}
}

func testNamespaces() []*v1.Namespace {
	return []*v1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"env": "prod"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"env": "dev"}}},
	}
}

func pod(name, app string) *st.PodWrapper {
	return st.MakePod().Namespace("default").Name(name).UID(name).Label("app", app)
}

func sel(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// withTerm adds one required term with explicit namespaces fields.
func withTerm(p *v1.Pod, anti bool, app, key string, namespaces []string, nsSelector *metav1.LabelSelector) *v1.Pod {
	term := v1.PodAffinityTerm{LabelSelector: sel(app), TopologyKey: key, Namespaces: namespaces, NamespaceSelector: nsSelector}
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	if anti {
		p.Spec.Affinity.PodAntiAffinity = &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}
	} else {
		p.Spec.Affinity.PodAffinity = &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{term}}
	}
	return p
}

type verdict struct {
	code   fwk.Code
	reason string
}

var (
	pass         = verdict{code: fwk.Success}
	noAffinity   = verdict{fwk.UnschedulableAndUnresolvable, podaffinity.ErrReasonAffinity}
	antiAffinity = verdict{fwk.Unschedulable, podaffinity.ErrReasonAntiAffinity}
	existingAnti = verdict{fwk.Unschedulable, podaffinity.ErrReasonExistingAntiAffinity}
)
