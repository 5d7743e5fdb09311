package counting

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// The scheduler cache holds NodeInfos whose Node has not arrived yet (pods
// bound to a node the informer has not delivered); counting one must add
// nothing and not crash.
func TestNodeInfoWithoutNode(t *testing.T) {
	ni := framework.NewNodeInfo(&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "early", Namespace: "default"}})
	term := fwk.AffinityTerm{Namespaces: sets.New("default"), Selector: labels.Everything(), TopologyKey: v1.LabelHostname}
	if !term.Matches(ni.GetPods()[0].GetPod(), nil) {
		t.Fatal("the term must match the pod, or the test checks nothing")
	}
	if got := AntiAffinity([]fwk.AffinityTerm{term}, nil).node(ni, nil); len(got) != 0 {
		t.Errorf("shares of a NodeInfo without a Node: %v", got)
	}
	tot := newTally()
	tot.keys = []string{v1.LabelHostname}
	if got := tot.bind(ni, nil); len(got) != 0 {
		t.Errorf("cells of a NodeInfo without a Node: %v", got)
	}
}
