package counting

import (
	"slices"

	fwk "k8s.io/kube-scheduler/framework"
)

// Finding the nodes that changed means reading every NodeInfo's generation,
// and on thousands of nodes that walk (a cache miss per node) was most of a
// cycle's cost once it ran for every view. The feed walks the nodes once per
// scheduling cycle and logs which positions changed; a view then recounts
// the positions logged since its last refresh. A view keeps a slot for every
// node, even when its rule counts only some (pods with terms): a node outside
// those has no shares, and keeping its empty slot is what lets the feed's
// positions address every view.
//
// Why a view sees every change: each scan compares every node's generation
// with the one the previous scan read, so a node whose generation moved
// after a view's last refresh is in a logged scan since then. A view whose
// last refresh is older than the log, or from before the list of nodes
// changed (layout), compares every node itself, as without the feed.

// FeedScans is how many scans the log keeps: a view unused for longer
// compares every node when next used.
const FeedScans = 64

type feed struct {
	// all is the node list of the last scan, copied; gens the generation
	// each node had then.
	all  []fwk.NodeInfo
	gens []int64
	// layout counts the changes of the list itself (nodes added, removed);
	// positions mean the same within one layout, and pos maps all's nodes to
	// them.
	layout uint64
	pos    *positions
	// epoch counts scans.
	epoch uint64
	// log holds the positions each recent scan found changed, oldest first,
	// all of the current layout.
	log []scan
}

type scan struct {
	epoch   uint64
	changed []int32
}

// update scans all, the scheduler's node list at the start of a cycle.
func (f *feed) update(all []fwk.NodeInfo) {
	f.epoch++
	if !slices.Equal(all, f.all) {
		f.all = slices.Clone(all)
		f.gens = make([]int64, len(all))
		for i, ni := range all {
			f.gens[i] = ni.GetGeneration()
		}
		f.layout++
		f.pos = newPositions(all)
		f.log = f.log[:0]
		return
	}
	var changed []int32
	for i, ni := range all {
		// Generation 0 is a NodeInfo the cache never counted: always recount.
		if g := ni.GetGeneration(); g != f.gens[i] || g == 0 {
			f.gens[i] = g
			changed = append(changed, int32(i))
		}
	}
	if len(f.log) == FeedScans {
		f.log = append(f.log[:0], f.log[1:]...)
	}
	f.log = append(f.log, scan{epoch: f.epoch, changed: changed})
}

// since returns the positions logged as changed after scan epoch, sorted
// and without repeats, or false when the log does not reach back that far.
func (f *feed) since(epoch uint64) ([]int32, bool) {
	if epoch == f.epoch {
		return nil, true
	}
	if len(f.log) == 0 || f.log[0].epoch > epoch+1 {
		return nil, false
	}
	var out []int32
	for _, s := range f.log {
		if s.epoch > epoch {
			out = append(out, s.changed...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}
