package records

import (
	"flag"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

// BenchmarkRecordWrites measures what storing records costs by itself, away
// from the scheduling whose swings hide it in BenchmarkRecording: the
// scheduler's store writes -pods records like those SchedulingBasic leaves
// on 5,000 nodes, ten to a batch as under load, to the API server and etcd
// of this process, and nothing else runs. It reports the process's CPU per
// record, median of -rounds.
var batchSize = flag.Int("batch", 10, "BenchmarkRecordWrites: records to a write")

func BenchmarkRecordWrites(b *testing.B) {
	ctx, cluster, cs := startCluster(b)
	store, err := decision.NewAPIStore(cluster.Config)
	if err != nil {
		b.Fatal(err)
	}
	const namespace = "records"
	perWrite := *batchSize
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	var cpus []float64
	for b.Loop() {
		for r := range *rounds {
			cpu0 := cpuTime()
			for i := 0; i < *pods; i += perWrite {
				batch := make([]*decision.Decision, 0, perWrite)
				for j := i; j < min(i+perWrite, *pods); j++ {
					batch = append(batch, basicRecord(namespace, r*(*pods)+j))
				}
				if err := store.WriteBatch(ctx, namespace, recording, batch); err != nil {
					b.Fatal(err)
				}
			}
			cpus = append(cpus, (cpuTime()-cpu0).Seconds()/float64(*pods))
		}
	}
	b.ReportMetric(median(cpus)*1e6, "cpu-µs/record")
	b.Logf("%d records, %d to a write, medians of %d rounds: %.0f µs of CPU per record", *pods, perWrite, *rounds, median(cpus)*1e6)
}

// basicRecord is record i as SchedulingBasic's pods leave them on 5,000
// nodes: bound at the first attempt, 500 nodes evaluated and feasible, the
// top five tied on six score plugins.
func basicRecord(namespace string, i int) *decision.Decision {
	uid := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	plugins := []string{"PlacementTaintToleration", "NodeResourcesFit", "VolumeBinding", "DynamicResources", "NodeResourcesBalancedAllocation", "ImageLocality"}
	scores := []int64{300, 97, 0, 0, 74, 0}
	d := &decision.Decision{
		TypeMeta:   metav1.TypeMeta{APIVersion: decision.Group + "/" + decision.Version, Kind: decision.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: uid, Labels: map[string]string{"color": "green"}},
		Pod:        decision.PodReference{Name: fmt.Sprintf("pod-%05d", i), UID: uid, Generation: 1, ResourceVersion: fmt.Sprint(100000 + i)},
		Profile:    recording, Time: metav1.NewMicroTime(time.Now()), Attempts: 1, Outcome: decision.Bound,
		Node:   fmt.Sprintf("node-%05d", i%5000),
		Nodes:  decision.NodeCounts{Total: 5000, Evaluated: 500, Feasible: 500},
		Margin: ptr.To[int64](0), Tied: 184,
	}
	for n := range 5 {
		s := decision.NodeScore{Node: fmt.Sprintf("node-%05d", (i+n*997)%5000), Total: 471}
		for k, p := range plugins {
			s.Plugins = append(s.Plugins, decision.PluginScore{Plugin: p, Score: scores[k]})
		}
		d.Scores = append(d.Scores, s)
	}
	return d
}
