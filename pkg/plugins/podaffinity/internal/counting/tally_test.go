package counting

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	st "k8s.io/kubernetes/pkg/scheduler/testing"
)

// TestPublishedTotalsStayExact: per-node totals share pages (and wide cells'
// sums) with later publications; a change must copy what it writes, so that
// every publication keeps reading the totals as they were when it was
// published.
func TestPublishedTotalsStayExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const nodeCount = 4*pageLen + 100
	keys := []string{v1.LabelHostname, v1.LabelTopologyZone}
	nodes := make([]fwk.NodeInfo, nodeCount)
	for i := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(st.MakeNode().Name(fmt.Sprintf("node-%d", i)).
			Label(v1.LabelHostname, fmt.Sprintf("node-%d", i)).
			Label(v1.LabelTopologyZone, fmt.Sprintf("zone-%d", i%3)).Obj())
		nodes[i] = ni
	}
	tot := newTally()
	slots := make([]slot, nodeCount)
	tot.update(nodes, newPositions(nodes), slots, nil, true, keys)
	// want is every node's total, computed from the domains' sums.
	sums := domainCounts{}
	want := func() []int64 {
		out := make([]int64, nodeCount)
		for i, ni := range nodes {
			for _, k := range keys {
				out[i] += sums[Domain{k, ni.Node().Labels[k]}]
			}
		}
		return out
	}
	type published struct {
		totals *Totals
		want   []int64
	}
	var kept []published
	pagesCopied, zoneCopies := 0, 0
	for cycle := range 300 {
		before := slices.Clone(tot.pages)
		// One pod placed a cycle; one in ten changes a zone, every page.
		d := Domain{v1.LabelHostname, fmt.Sprintf("node-%d", rng.Intn(nodeCount))}
		if rng.Intn(10) == 0 {
			d = Domain{v1.LabelTopologyZone, fmt.Sprintf("zone-%d", rng.Intn(3))}
		}
		sums[d]++
		tot.add(d, 1)
		for k := range before {
			if before[k] != tot.pages[k] {
				pagesCopied++
				if d.Key == v1.LabelTopologyZone {
					zoneCopies++
				}
			}
		}
		kept = append(kept, published{tot.publish(keys), want()})
		for _, p := range kept {
			for i, w := range p.want {
				if got := p.totals.At(int32(i)); got != w {
					t.Fatalf("cycle %d: a publication reads %d for node-%d, was %d", cycle, got, i, w)
				}
			}
		}
	}
	// A zone holds more than WideAt nodes: its sum is kept apart, and
	// changing it copies no page.
	if zoneCopies > 0 {
		t.Errorf("zone changes copied %d pages", zoneCopies)
	}
	// Mostly one hostname a cycle: about one page copied, not all of them.
	if all := 300 * len(tot.pages); pagesCopied == 0 || pagesCopied > all/2 {
		t.Errorf("%d pages copied in 300 cycles of %d pages", pagesCopied, len(tot.pages))
	}
}

// TestTotalsKeepKeysThatGo: a topology key whose last share goes and comes
// back (a pod with a term on it removed, then placed again) must not rebind
// every node each time: the nodes stay bound for it, its cells at zero.
func TestTotalsKeepKeysThatGo(t *testing.T) {
	nodes := make([]fwk.NodeInfo, 50)
	for i := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(st.MakeNode().Name(fmt.Sprintf("node-%d", i)).Label(v1.LabelHostname, fmt.Sprintf("node-%d", i)).Obj())
		nodes[i] = ni
	}
	tot, slots, pos := newTally(), make([]slot, len(nodes)), newPositions(nodes)
	host := []string{v1.LabelHostname}
	tot.update(nodes, pos, slots, nil, true, host)
	tot.add(Domain{v1.LabelHostname, "node-3"}, 1)
	tot.update(nodes, pos, slots, nil, false, nil)
	tot.add(Domain{v1.LabelHostname, "node-3"}, -1)
	pages := tot.pages
	for _, keys := range [][]string{host, nil, host} {
		if tot.update(nodes, pos, slots, nil, false, keys) {
			t.Errorf("keys %v: the totals were rebuilt, though every node is bound for them", keys)
		}
	}
	if &pages[0] != &tot.pages[0] {
		t.Error("the pages were replaced")
	}
	tot.add(Domain{v1.LabelHostname, "node-7"}, 2)
	if got := tot.publish(nil).At(7); got != 2 {
		t.Errorf("node-7's total is %d after its hostname's count became 2", got)
	}
}
