package podaffinity

import (
	"context"
	"fmt"
	"maps"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// TestViewFollowsTheFeed: a kept view sees every change made while it was
// not asked, whether the feed's log still holds those changes or not, and
// when nodes come and go.
func TestViewFollowsTheFeed(t *testing.T) {
	for _, idle := range []int{1, feedScans / 2, feedScans, 3 * feedScans} {
		t.Run(fmt.Sprintf("idle=%d", idle), func(t *testing.T) {
			c, nodes := smallCluster(t)
			ctx, p := context.Background(), c.Handle.Parallelizer()
			x := newIndex()
			ask := func(nodes []fwk.NodeInfo) {
				t.Helper()
				x.scan(nodes)
				got := newLayered(x.query(ctx, p, "anti", nodes, selectorKeyShares), nil).materialize()
				want, _ := countOnce(ctx, p, nodes, selectorKeyShares, byDomain)
				if !maps.Equal(got, newLayered(want, nil).materialize()) {
					t.Fatalf("kept view %v, fresh count %v", got, newLayered(want, nil).materialize())
				}
			}
			ask(nodes)
			ask(nodes)
			// The first change is the oldest the view must catch up with;
			// the others land on another node, scan after scan.
			for i := range idle {
				node := nodes[0].Node().Name
				if i == 0 {
					node = nodes[5].Node().Name
				}
				if err := c.Cache.AddPod(c.Logger, feedPod(i, node)); err != nil {
					t.Fatal(err)
				}
				nodes = c.Cycle(t)
				x.scan(nodes)
			}
			ask(nodes)
			c.Cache.AddNode(c.Logger, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "added", Labels: map[string]string{v1.LabelHostname: "added"}}})
			if err := c.Cache.AddPod(c.Logger, feedPod(idle, "added")); err != nil {
				t.Fatal(err)
			}
			ask(c.Cycle(t))
		})
	}
}

// feedPod is a pod with required anti-affinity, so that the selector keys
// view counts it, selecting on a key of its own.
func feedPod(i int, node string) *v1.Pod {
	name := fmt.Sprintf("feed-%d", i)
	key := fmt.Sprintf("key-%d", i)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name)},
		Spec: v1.PodSpec{NodeName: node, Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "x"}},
				TopologyKey:   v1.LabelHostname,
			}},
		}}},
	}
}

// TestNoWalkWithoutTerms: where no pod has inter-pod terms (most clusters),
// a pod without terms costs no walk of the nodes: both PreFilter and
// PreScore skip before the index is asked.
func TestNoWalkWithoutTerms(t *testing.T) {
	c := plugintest.NewLiveCluster(t)
	ns := plugintest.BenchNodes(20)
	for _, n := range ns {
		c.Cache.AddNode(c.Logger, n)
	}
	for _, p := range plugintest.BenchPods(100, 5, ns, false) {
		if err := c.Cache.AddPod(c.Logger, p); err != nil {
			t.Fatal(err)
		}
	}
	nodes := c.Cycle(t)
	pl, err := NewWithArgs(c.Handle, Args{})
	if err != nil {
		t.Fatal(err)
	}
	plain := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "default", UID: "plain", Labels: map[string]string{"app": "web"}}}
	ctx, cs := context.Background(), framework.NewCycleState()
	if _, s := pl.PreFilter(ctx, cs, plain, nodes); !s.IsSkip() {
		t.Errorf("PreFilter: %v, want Skip", s)
	}
	if s := pl.PreScore(ctx, cs, plain, nodes); !s.IsSkip() {
		t.Errorf("PreScore: %v, want Skip", s)
	}
	if pl.index.feed.epoch != 0 {
		t.Errorf("the nodes were walked %d times, want none", pl.index.feed.epoch)
	}
}
