package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/component-base/metrics/legacyregistry"
	"sigs.k8s.io/yaml"

	"github.com/kube-placement/placement-scheduler/internal/apiproxy"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

// decisionMetric sums a metric of the decision writers of the profile
// placement-scheduler, as this process's /metrics would show it: the
// in-process schedulers register there.
func decisionMetric(t *testing.T, name string) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "profile" && l.GetValue() == "placement-scheduler" {
					sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return sum
}

// checkRecords: every bound pod has a record, but for at most the records
// the writers dropped during the test. A record names the pod's node, or
// is a Failed attempt: a bind the scheduler saw fail (the apiserver down)
// may have been made, and the pod's next attempt then failed too, on
// another node; the latest attempt is the one recorded.
func (f *faultEnv) checkRecords(r *faultReport, pods []v1.Pod) {
	f.t.Helper()
	dyn, err := dynamic.NewForConfig(f.cluster.Config)
	if err != nil {
		f.t.Fatal(err)
	}
	var missing, wrong []string
	failedElsewhere := 0
	err = wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		records, err := decision.List(ctx, dyn, decision.ListOptions{})
		if err != nil {
			return false, nil
		}
		byUID := map[string]decision.Decision{}
		for _, d := range records.Items {
			byUID[d.Pod.UID] = d
		}
		missing, wrong, failedElsewhere = missing[:0], wrong[:0], 0
		for _, p := range bound(pods) {
			d, ok := byUID[string(p.UID)]
			switch {
			case !ok:
				missing = append(missing, p.Name)
			case d.Node == p.Spec.NodeName:
			case d.Outcome == decision.Failed:
				failedElsewhere++
			default:
				wrong = append(wrong, fmt.Sprintf("%s (record: %s on %q, attempt %d; bound to %s)", p.Name, d.Outcome, d.Node, d.Attempts, p.Spec.NodeName))
			}
		}
		r.recordsDropped = int(decisionMetric(f.t, "placement_decision_records_dropped_total") - f.droppedBefore)
		return len(missing) <= r.recordsDropped && len(wrong) == 0, nil
	})
	r.recordsMissing = len(missing)
	if failedElsewhere > 0 {
		f.t.Logf("%d bound pods' latest record is a failed bind on another node", failedElsewhere)
	}
	if err != nil {
		f.t.Errorf("%d bound pods have no record (e.g. %v), the writers dropped %d; %d records name another node: %v", len(missing), missing[:min(5, len(missing))], r.recordsDropped, len(wrong), wrong[:min(5, len(wrong))])
	}
}

// TestFaultSlowRecordWrites: every write of a decision record takes a
// second while 2,000 pods arrive, and the writer may queue 50 records.
// Scheduling must not wait for the records: every pod is placed as in the
// other faults; the queue stays within its bound; the records that did not
// fit are dropped and counted, and every other bound pod has its record.
func TestFaultSlowRecordWrites(t *testing.T) {
	f := newFaultEnv(t)
	s, p := f.startSchedulerWith(withQueueSize(t, faultConfig(t), 50))
	p.SetDelay(func(r *http.Request) apiproxy.Delay {
		write := r.Method == http.MethodPost || r.Method == http.MethodPut
		if write && (strings.Contains(r.URL.Path, "/"+decision.Resource) || strings.Contains(r.URL.Path, "/"+decision.BatchResource)) {
			return apiproxy.Delay{Before: time.Second}
		}
		return apiproxy.Delay{}
	})
	peak := watchQueue(t)
	end := f.run(func() {})
	r := &faultReport{fault: "SlowRecordWrites", recovery: f.waitSettled(faultPods).Sub(end)}
	checkQueue(t, r, peak(), 50)
	p.SetDelay(nil)
	f.verify(r, s)
	if r.recordsDropped == 0 {
		t.Error("no record was dropped: the fault did not fill the queue")
	}
}

// TestFaultAPIServerDown: the API server is down for a minute while pods are
// scheduled, and the writer may queue 200 records. Every bind fails
// meanwhile, and each pending pod's failed attempt leaves a record: more
// records than the queue holds, none of which can be written. Scheduling
// resumes when the API server is back; the queue stays within its bound;
// the records that did not fit are dropped and counted; and the usual
// checks hold (each pod bound once, no wrong placement, no goroutine left).
func TestFaultAPIServerDown(t *testing.T) {
	f := newFaultEnv(t)
	s, _ := f.startSchedulerWith(withQueueSize(t, faultConfig(t), 200))
	peak := watchQueue(t)
	end := f.run(func() { f.restartAPIServer(time.Minute) })
	r := &faultReport{fault: "APIServerDown", recovery: f.waitSettled(faultPods).Sub(end)}
	checkQueue(t, r, peak(), 200)
	f.verify(r, s)
	if r.recordsDropped == 0 {
		t.Error("no record was dropped: the outage did not fill the queue")
	}
}

// withQueueSize sets the PlacementDecisions queueSize of a configuration
// that has the default one.
func withQueueSize(t *testing.T, cfg []byte, n int) []byte {
	t.Helper()
	out := strings.Replace(string(cfg), "queueSize: 5000", fmt.Sprintf("queueSize: %d", n), 1)
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || out == string(cfg) {
		t.Fatalf("the configuration has no queueSize to set: %v", err)
	}
	return []byte(out)
}

// watchQueue samples the writer's queue length every 20 ms until the
// returned function is called, which returns the largest length seen.
func watchQueue(t *testing.T) func() float64 {
	var (
		peak float64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			peak = max(peak, decisionMetric(t, "placement_decision_records_queued"))
		}
	}()
	return func() float64 {
		close(stop)
		<-done
		return peak
	}
}

// checkQueue fails the test if the queue held more than its bound.
func checkQueue(t *testing.T, r *faultReport, peak float64, bound int) {
	t.Helper()
	if peak > float64(bound) {
		t.Errorf("up to %v records queued; the bound is %d", peak, bound)
	}
	t.Logf("%s: up to %v records queued (bound %d)", r.fault, peak, bound)
}

// TestOlderBatchCRDRefusesPackedBatches: a cluster left with the batch CRD
// of a release before packing (helm does not upgrade CRDs) refuses a packed
// batch as Invalid, which the writer drops, counts and logs (pkg/decision's
// TestWriterDropsRecordsOfGoneNamespaces), rather than storing a batch
// emptied by pruning.
func TestOlderBatchCRDRefusesPackedBatches(t *testing.T) {
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	crd, err := crds.Get(e.ctx, decision.BatchResource+"."+decision.Group, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The schema as releases before packing had it: records unpacked only,
	// and required.
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	v := versions[0].(map[string]any)
	root := []string{"schema", "openAPIV3Schema"}
	for _, field := range []string{"packed", "count", "newest"} {
		unstructured.RemoveNestedField(v, append(root, "properties", field)...)
	}
	if err := unstructured.SetNestedStringSlice(v, []string{"profile", "decisions"}, append(root, "required")...); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"); err != nil {
		t.Fatal(err)
	}
	if _, err := crds.Update(e.ctx, crd, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "older"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	store, err := decision.NewAPIStore(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	record := &decision.Decision{
		ObjectMeta: metav1.ObjectMeta{Namespace: "older", Name: "uid-1"},
		Pod:        decision.PodReference{Name: "a", UID: "uid-1"}, Profile: "p",
		Time: metav1.NowMicro(), Attempts: 1, Outcome: decision.Bound, Node: "n1",
	}
	// The API server takes the new schema in a moment: batches written
	// before that are stored, and the next ones refused.
	err = wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := store.WriteBatch(ctx, "older", "p", []*decision.Decision{record})
		return apierrors.IsInvalid(err), nil
	})
	if err != nil {
		t.Fatalf("a packed batch against the older batch CRD: never refused as Invalid: %v", err)
	}
}
