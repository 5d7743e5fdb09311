package podaffinity

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestNamespaceViewKeepsOnlyWhatIsAhead(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	ns := func(rv, team string) *v1.Namespace {
		return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t", ResourceVersion: rv, Labels: map[string]string{"team": team}}}
	}
	if err := indexer.Add(ns("5", "x")); err != nil {
		t.Fatal(err)
	}
	v := newNamespaceTracker(listersv1.NewNamespaceLister(indexer))
	team := func() string {
		t.Helper()
		set, found, err := v.labels("t")
		if err != nil || !found {
			t.Fatalf("labels: found %v, err %v", found, err)
		}
		return set["team"]
	}
	steps := []struct {
		name      string
		do        func()
		wantTeam  string
		wantAhead int
	}{
		{"an event the lister already has", func() { v.observe(ns("5", "x")) }, "x", 0},
		{"an older event", func() { v.observe(ns("4", "old")) }, "x", 0},
		{"a newer event", func() { v.observe(ns("6", "y")) }, "y", 1},
		{"versions that cannot be compared leave the lister in charge", func() { v.observe(ns("", "z")) }, "y", 1},
		{"the typed informer catches up", func() { v.caughtUp("t", "6"); _ = indexer.Update(ns("6", "y")) }, "y", 0},
		{"deleted before the typed informer saw the update", func() { v.observe(ns("8", "w")); v.deleted("t") }, "y", 0},
	}
	for _, s := range steps {
		s.do()
		if got := team(); got != s.wantTeam {
			t.Errorf("%s: team %q, want %q", s.name, got, s.wantTeam)
		}
		if len(v.ahead) != s.wantAhead {
			t.Errorf("%s: %d namespaces ahead of the lister, want %d", s.name, len(v.ahead), s.wantAhead)
		}
	}
}
