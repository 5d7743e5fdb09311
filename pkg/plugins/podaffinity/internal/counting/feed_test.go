package counting

import (
	"context"
	"fmt"
	"maps"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// TestViewFollowsTheFeed: a kept view sees every change made while it was
// not asked, whether the feed's log still holds those changes or not, and
// when nodes come and go.
func TestViewFollowsTheFeed(t *testing.T) {
	for _, idle := range []int{1, FeedScans / 2, FeedScans, 3 * FeedScans} {
		t.Run(fmt.Sprintf("idle=%d", idle), func(t *testing.T) {
			c, nodes := smallCluster(t)
			ctx, p := context.Background(), c.Handle.Parallelizer()
			x := NewIndex(p, "test")
			ask := func(nodes []fwk.NodeInfo) {
				t.Helper()
				x.Scan(nodes)
				got := NewCounts(query(ctx, x, "anti", nodes, SelectorKeysRule), nil).materialize()
				want, _ := x.CountOnce(ctx, nodes, SelectorKeysRule, ByDomain)
				if !maps.Equal(got, NewCounts(want, nil).materialize()) {
					t.Fatalf("kept view %v, fresh count %v", got, NewCounts(want, nil).materialize())
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
				x.Scan(nodes)
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
