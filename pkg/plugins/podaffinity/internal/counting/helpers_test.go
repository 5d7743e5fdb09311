package counting

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/plugintest"
)

// smallCluster is 20 nodes holding 200 realistic pods.
func smallCluster(t testing.TB) (*plugintest.LiveCluster, []fwk.NodeInfo) {
	c, _ := plugintest.NewRealisticCluster(t, 20, 200, 10)
	return c, c.Cycle(t)
}

// recountEntries sums the views' entries from their slots.
func recountEntries(x *Index) int {
	n := 0
	for _, v := range x.views {
		for i := range v.slots {
			n += len(v.slots[i].shares) + len(v.slots[i].pods)
		}
	}
	return n
}

func checkAccounting(t *testing.T, x *Index) {
	t.Helper()
	if got := recountEntries(x); got != x.entries {
		t.Errorf("index accounts %d entries, its views hold %d", x.entries, got)
	}
	if len(x.views) > maxViews {
		t.Errorf("%d views, at most %d", len(x.views), maxViews)
	}
	if len(x.views) > 1 && x.entries > budgetViews*x.largest() {
		t.Errorf("%d entries in %d views, over %d × the largest (%d)", x.entries, len(x.views), budgetViews, x.largest())
	}
}

func keysOf(m map[string]*view) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// query asks x for key's sums alone.
func query(ctx context.Context, x *Index, key string, nodes []fwk.NodeInfo, rule Rule) *Sums {
	sums, _ := x.Query(ctx, key, nodes, rule, ByDomain)
	return sums
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

// materialize returns the combined counts as one map, for tests.
func (l *Counts) materialize() domainCounts {
	m := domainCounts{}
	l.Each(func(d Domain, n int64) bool { m[d] = n; return false })
	return m
}
