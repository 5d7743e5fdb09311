package counting

import (
	"maps"
	"slices"
)

// Stats is what an index holds, read at once: what its metrics report, and
// what tests that drive whole scheduling cycles check was exercised.
type Stats struct {
	// Views are the kept views, by query key.
	Views []ViewStats
	// SeenOnce are the query keys seen once and not kept, sorted.
	SeenOnce []string
	// Entries are the views' per-pod memos and per-node shares, summed.
	Entries int
	// Scans counts the scans of the node list (one per cycle that asked);
	// LoggedScans how many of them the feed's log holds now.
	Scans, LoggedScans int
}

// ViewStats is what one view holds and how much it reused.
type ViewStats struct {
	Key     string
	Entries int
	// NodesReused and PodsReused count the nodes and pods whose shares a
	// refresh kept instead of recounting them, over the view's life.
	NodesReused, PodsReused int
	// WideSums counts the view's wide cells whose sum is not zero.
	WideSums int
}

// Stats returns what the index holds now.
func (x *Index) Stats() Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := Stats{Entries: x.entries, Scans: int(x.feed.epoch), LoggedScans: len(x.feed.log)}
	for _, k := range slices.Sorted(maps.Keys(x.views)) {
		v := x.views[k]
		vs := ViewStats{Key: k, Entries: v.entries, NodesReused: v.reused, PodsReused: v.podsReused}
		if v.tally != nil {
			for _, n := range v.tally.wideSums {
				if n != 0 {
					vs.WideSums++
				}
			}
		}
		s.Views = append(s.Views, vs)
	}
	s.SeenOnce = slices.AppendSeq(slices.Collect(maps.Keys(x.seen)), maps.Keys(x.seenBefore))
	slices.Sort(s.SeenOnce)
	return s
}
