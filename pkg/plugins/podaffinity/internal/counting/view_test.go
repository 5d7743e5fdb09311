package counting

import (
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"testing"
)

// TestPublishedSumsStayExact: across thousands of changes, so that the base
// is copied many times, every publication reads as the sum did when it was
// published, and keeps reading so after later changes (cycle states of
// earlier cycles may still hold it).
func TestPublishedSumsStayExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	v := newView(Rule{}, ByDomain)
	type published struct {
		sums *Sums
		want domainCounts
	}
	var kept []published
	compactions := 0
	for cycle := range 2000 {
		for range 1 + rng.Intn(4) {
			d := Domain{"kubernetes.io/hostname", fmt.Sprintf("node-%d", rng.Intn(300))}
			sign := int64(1)
			if rng.Intn(3) == 0 && v.sum[d] > 0 {
				sign = -1
			}
			v.apply([]share{{d, 1}}, sign)
		}
		base := v.base
		v.publish()
		if cycle > 0 && !sameMap(base, v.base) {
			compactions++
		}
		if len(v.sums.over) > compactAt(len(v.sums.base)) {
			t.Fatalf("cycle %d: %d differences published over a base of %d", cycle, len(v.sums.over), len(v.sums.base))
		}
		kept = append(kept, published{v.sums, maps.Clone(v.sum)})
		for _, p := range kept[max(0, len(kept)-10):] {
			got := NewCounts(p.sums, nil).materialize()
			if !maps.Equal(got, p.want) || p.sums.nonzero != len(p.want) {
				t.Fatalf("cycle %d: a publication reads %v (%d non-zero), was %v", cycle, got, p.sums.nonzero, p.want)
			}
		}
	}
	if compactions < 10 {
		t.Errorf("the base was copied %d times; the test needs it copied often", compactions)
	}
}

// sameMap reports whether a and b are the same map object.
func sameMap(a, b domainCounts) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
