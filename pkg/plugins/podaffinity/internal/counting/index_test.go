package counting

import (
	"context"
	"fmt"
	"testing"
)

// TestIndexKeepsRepeatedQueriesOnly: a key is kept from its second query
// on; a query seen once is answered the same and leaves nothing behind.
func TestIndexKeepsRepeatedQueriesOnly(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := NewIndex(p, "test")
	x.Scan(nodes)
	first := query(ctx, x, "a", nodes, SelectorKeysRule)
	if len(x.views) != 0 || x.entries != 0 {
		t.Fatalf("after one query: %d views, %d entries; want none kept", len(x.views), x.entries)
	}
	second := query(ctx, x, "a", nodes, SelectorKeysRule)
	if len(x.views) != 1 || x.entries == 0 {
		t.Fatalf("after the second query: %d views, %d entries; want one view", len(x.views), x.entries)
	}
	if a, b := NewCounts(first, nil).materialize(), NewCounts(second, nil).materialize(); fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprint(first.keys) != fmt.Sprint(second.keys) {
		t.Errorf("once %v %v, kept %v %v", a, first.keys, b, second.keys)
	}
	for i := range 3 * seenLimit {
		query(ctx, x, fmt.Sprintf("once-%d", i), nodes, SelectorKeysRule)
	}
	if len(x.views) != 1 {
		t.Errorf("%d views after %d one-off queries, want the one kept view", len(x.views), 3*seenLimit)
	}
	if len(x.seen)+len(x.seenBefore) > 2*seenLimit {
		t.Errorf("%d keys remembered as seen once, at most %d", len(x.seen)+len(x.seenBefore), 2*seenLimit)
	}
	checkAccounting(t, x)
}

// TestIndexDropsIdleViews: a view nobody asks for goes, with what it holds.
func TestIndexDropsIdleViews(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := NewIndex(p, "test")
	x.Scan(nodes)
	for _, key := range []string{"idle", "idle", "busy"} {
		query(ctx, x, key, nodes, SelectorKeysRule)
	}
	for range idleQueries + sweepEvery {
		query(ctx, x, "busy", nodes, SelectorKeysRule)
	}
	if _, ok := x.views["idle"]; ok || len(x.views) != 1 {
		t.Errorf("views %v after %d queries of another key; want only busy", keysOf(x.views), idleQueries+sweepEvery)
	}
	checkAccounting(t, x)
}

// TestIndexBudget: many kept queries of the same size stay within
// budgetViews of them, the least recently used going first.
func TestIndexBudget(t *testing.T) {
	c, nodes := smallCluster(t)
	ctx, p := context.Background(), c.Handle.Parallelizer()
	x := NewIndex(p, "test")
	x.Scan(nodes)
	for i := range 3 * budgetViews {
		key := fmt.Sprintf("shape-%d", i)
		query(ctx, x, key, nodes, SelectorKeysRule)
		query(ctx, x, key, nodes, SelectorKeysRule)
		checkAccounting(t, x)
	}
	if len(x.views) != budgetViews {
		t.Errorf("%d views of equal size, want %d", len(x.views), budgetViews)
	}
	if _, ok := x.views[fmt.Sprintf("shape-%d", 3*budgetViews-1)]; !ok {
		t.Errorf("the newest view was dropped: %v", keysOf(x.views))
	}
}
