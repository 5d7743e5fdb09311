package decision

import (
	"fmt"
	"testing"

	fwk "k8s.io/kube-scheduler/framework"
)

// FuzzTopScores: whatever the scores, the chosen node comes first, at most
// n nodes are kept, best totals first, and the margin and ties are those of
// the chosen node against all the others.
func FuzzTopScores(f *testing.F) {
	f.Add([]byte{10, 50, 50, 30}, uint8(1), uint8(3))
	f.Add([]byte{7}, uint8(0), uint8(5))
	f.Add([]byte{}, uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, totals []byte, chosen, n uint8) {
		scores := make([]fwk.NodePluginScores, len(totals))
		for i, total := range totals {
			scores[i] = fwk.NodePluginScores{Name: fmt.Sprint("n", i), TotalScore: int64(total)}
		}
		name := fmt.Sprint("n", chosen)
		top, margin, tied := topScores(scores, name, int(n))
		if int(chosen) >= len(totals) || n == 0 {
			if top != nil || margin != nil || tied != 0 {
				t.Fatalf("nothing to rank, got %v %v %d", top, margin, tied)
			}
			return
		}
		if top[0].Node != name || len(top) > int(n) || len(top) > len(totals) {
			t.Fatalf("top %v for chosen %s, n %d", top, name, n)
		}
		for i := 2; i < len(top); i++ {
			if top[i].Total > top[i-1].Total {
				t.Fatalf("not best first: %v", top)
			}
		}
		best, ties := int64(-1), 0
		for i, total := range totals {
			if i == int(chosen) {
				continue
			}
			best = max(best, int64(total))
			if total == totals[chosen] {
				ties++
			}
		}
		if ties != tied || (best < 0) != (margin == nil) || margin != nil && *margin != int64(totals[chosen])-best {
			t.Fatalf("margin %v tied %d; want best other %d, ties %d", margin, tied, best, ties)
		}
	})
}
