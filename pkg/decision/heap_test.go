package decision

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// BenchmarkQueueHeap measures what a full queue holds on the heap: the
// recorder keeps no other per-pod state once a pod's attempt ends (a
// cycle's scores are dropped when its top nodes are taken), so this bound,
// queueSize records, is what recording adds to the scheduler's heap however
// large the cluster. Each record is as a cycle on 5,000 nodes leaves it:
// five rejection reasons with three example nodes, the top five nodes with
// nine score plugins each, the pod's labels.
//
//	go test -run '^$' -bench BenchmarkQueueHeap -benchtime 1x ./pkg/decision
func BenchmarkQueueHeap(b *testing.B) {
	cfg := Config{TopNodes: DefaultTopNodes, Retention: DefaultRetention, MaxRecords: DefaultMaxRecords, QueueSize: DefaultQueueSize}
	size := cfg.QueueSize
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w := NewWriter(nil, "heap", cfg)
		for i := range size {
			w.Enqueue(sampleRecord(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if w.Len() != size {
			b.Fatalf("queue holds %d records, want %d", w.Len(), size)
		}
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/float64(size), "B/record")
		b.ReportMetric(held/(1<<20), "MiB/full-queue")
		runtime.KeepAlive(w)
	}
}

// sampleRecord is the i-th record of a cycle on 5,000 nodes: five rejection
// reasons with three example nodes, the top five nodes with nine score
// plugins each, four pod labels.
func sampleRecord(i int) *Decision {
	node := func(n int) string { return fmt.Sprintf("node-%05d", n%5000) }
	plugins := []string{"PlacementPodAffinity", "PlacementNodeAffinity", "PlacementTaintToleration", "NodeResourcesFit",
		"NodeResourcesBalancedAllocation", "ImageLocality", "PodTopologySpread", "VolumeBinding", "TaintToleration"}
	d := &Decision{
		TypeMeta: metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns-001", Name: fmt.Sprintf("0000-%08d", i),
			Labels: map[string]string{"app": "app-00042", "pod-template-hash": "5d8f9c7b6", "tier": "web", "team": "payments"}},
		Pod:     PodReference{Name: fmt.Sprintf("app-00042-5d8f9c7b6-%08d", i), UID: fmt.Sprintf("0000-%08d", i), Generation: 1, ResourceVersion: "123456789"},
		Profile: "placement-scheduler", Time: metav1.NewMicroTime(time.Now()), Attempts: 1,
		Outcome: Bound, Node: node(i), Nodes: NodeCounts{Total: 5000, Evaluated: 5000, Feasible: 4100},
		Margin: ptr.To[int64](3),
	}
	for r := range 5 {
		d.Rejections = append(d.Rejections, Rejection{Plugin: plugins[r], Reason: "node(s) didn't match pod anti-affinity rules",
			Nodes: 100 * (r + 1), Examples: []string{node(i + r), node(i + r + 1), node(i + r + 2)}})
	}
	for s := range 5 {
		ns := NodeScore{Node: node(i + s*7), Total: int64(900 - s)}
		for _, p := range plugins {
			ns.Plugins = append(ns.Plugins, PluginScore{Plugin: p, Score: 100})
		}
		d.Scores = append(d.Scores, ns)
	}
	return d
}

// TestRecordSize: the top scores as the scheduler writes them are under
// half the bytes of a {plugin, score} pair per node and plugin, the
// encoding TopScores replaced.
func TestRecordSize(t *testing.T) {
	d := sampleRecord(7)
	record, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(d.Scores)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := json.Marshal([]NodeScore(d.Scores))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("record: %d bytes, of which scores %d (as pairs: %d)", len(record), len(compact), len(pairs))
	if len(compact)*2 > len(pairs) {
		t.Errorf("scores take %d bytes, as pairs %d: want under half", len(compact), len(pairs))
	}
}
