package decision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
)

// fakeStore keeps records in memory; fail makes writes fail while set.
type fakeStore struct {
	mu      sync.Mutex
	records map[string]*Decision
	// batches are the batches by name, each with its records.
	batches map[string][]*Decision
	writes  int
	fail    bool
	written chan struct{}
}

func newFakeStore() *fakeStore {
	return &fakeStore{records: map[string]*Decision{}, batches: map[string][]*Decision{}, written: make(chan struct{}, 1000)}
}

// gone is a namespace deleted after its pods were decided.
const gone = "gone"

func namespaceGone() error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, gone)
}

// refused is a namespace whose records the API server refuses as invalid,
// as one with an older CRD would.
const refused = "refused"

func recordRefused() error {
	return apierrors.NewInvalid(schema.GroupKind{Group: Group, Kind: Kind}, "r", nil)
}

func (s *fakeStore) Write(_ context.Context, d *Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("apiserver down")
	}
	if d.Namespace == gone {
		return namespaceGone()
	}
	if d.Namespace == refused {
		return recordRefused()
	}
	s.writes++
	s.records[d.Namespace+"/"+d.Name] = d
	s.written <- struct{}{}
	return nil
}

func (s *fakeStore) WriteBatch(_ context.Context, namespace, _ string, ds []*Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("apiserver down")
	}
	if namespace == gone {
		return namespaceGone()
	}
	if namespace == refused {
		return recordRefused()
	}
	for _, d := range ds {
		if d.Namespace != namespace || !Batched(d) {
			return fmt.Errorf("record %s/%s (%s, attempt %d) in a batch of %s", d.Namespace, d.Name, d.Outcome, d.Attempts, namespace)
		}
	}
	s.writes++
	s.batches[fmt.Sprintf("%s/batch-%d", namespace, len(s.batches))] = slices.Clone(ds)
	s.written <- struct{}{}
	return nil
}

func (s *fakeStore) List(_ context.Context, profile string, fn func(Stored)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, d := range s.records {
		if d.Profile == profile {
			ns, name, _ := strings.Cut(key, "/")
			fn(Stored{Namespace: ns, Name: name, Records: 1, Newest: d.Time.Time})
		}
	}
	for key, ds := range s.batches {
		if ds[0].Profile == profile {
			ns, name, _ := strings.Cut(key, "/")
			o := Stored{Namespace: ns, Name: name, Batch: true, Records: len(ds)}
			for _, d := range ds {
				if d.Time.Time.After(o.Newest) {
					o.Newest = d.Time.Time
				}
			}
			fn(o)
		}
	}
	return nil
}

func (s *fakeStore) Delete(_ context.Context, o Stored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Batch {
		delete(s.batches, o.Namespace+"/"+o.Name)
	} else {
		delete(s.records, o.Namespace+"/"+o.Name)
	}
	return nil
}

func (s *fakeStore) setFail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// count is the records stored, own and batched, and the writes made.
func (s *fakeStore) count() (records, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	records = len(s.records)
	for _, ds := range s.batches {
		records += len(ds)
	}
	return records, s.writes
}

func record(profile string, i, attempt int, at time.Time) *Decision {
	uid := fmt.Sprintf("uid-%d", i)
	return &Decision{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: uid},
		Pod:        PodReference{Name: fmt.Sprintf("pod-%d", i), UID: uid},
		Profile:    profile, Attempts: attempt, Time: metav1.NewMicroTime(at),
	}
}

func testWriter(store Store, profile string, cfg Config) *Writer {
	w := NewWriter(store, profile, cfg)
	w.flushEvery = 10 * time.Millisecond
	return w
}

func dropped(t *testing.T, profile string) float64 {
	t.Helper()
	v, err := testutil.GetCounterMetricValue(recordsDropped.WithLabelValues(profile))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWriterKeepsTheLatestAttempt: a pod tried many times while its record
// waits leaves one record, its latest, written once.
func TestWriterKeepsTheLatestAttempt(t *testing.T) {
	store := newFakeStore()
	w := testWriter(store, "latest", Config{QueueSize: 10, Retention: time.Hour, MaxRecords: 100})
	for attempt := 1; attempt <= 1000; attempt++ {
		w.Enqueue(record("latest", 1, attempt, time.Now()))
	}
	if w.Len() != 1 {
		t.Fatalf("queued %d records; want 1", w.Len())
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	go w.Run(ctx)
	waitFor(t, "the write", func() bool { _, n := store.count(); return n == 1 })
	cancel()
	<-w.Done()
	if _, n := store.count(); n != 1 {
		t.Errorf("%d writes; want 1", n)
	}
	if got := store.records["ns/uid-1"].Attempts; got != 1000 {
		t.Errorf("stored attempt %d; want the latest, 1000", got)
	}
}

// TestWriterBoundsItsQueue: with the API server down, the queue holds at
// most QueueSize records, drops and counts the rest, and writes what it
// holds once the server is back.
func TestWriterBoundsItsQueue(t *testing.T) {
	store := newFakeStore()
	store.setFail(true)
	w := testWriter(store, "bounded", Config{QueueSize: 5, Retention: time.Hour, MaxRecords: 100})
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.Run(ctx)
	before := dropped(t, "bounded")
	for i := range 20 {
		w.Enqueue(record("bounded", i, 1, time.Now()))
	}
	// Writes fail and the records go back to the queue; the queue never
	// holds more than its bound.
	waitFor(t, "a failed write", func() bool {
		v, _ := testutil.GetCounterMetricValue(writeErrors.WithLabelValues("bounded"))
		return v > 0
	})
	if n := w.Len(); n > 5 {
		t.Errorf("%d records queued; the bound is 5", n)
	}
	if got := dropped(t, "bounded") - before; got < 10 {
		t.Errorf("%v records dropped; want at least 10 (20 offered, 5 queued, at most 5 in flight)", got)
	}
	store.setFail(false)
	// Every record is written or counted as dropped.
	waitFor(t, "every record written or dropped", func() bool {
		r, _ := store.count()
		return r+int(dropped(t, "bounded")-before) == 20
	})
	if n := w.Len(); n != 0 {
		t.Errorf("%d records still queued", n)
	}
}

// TestWriterWritesWhatItHoldsWhenStopped: a stopping scheduler's last
// decisions are written, not lost.
func TestWriterWritesWhatItHoldsWhenStopped(t *testing.T) {
	store := newFakeStore()
	w, cancel := startUnflushed(t, store, "stopping", 1000)
	for i := range 50 {
		w.Enqueue(record("stopping", i, 1, time.Now()))
	}
	cancel()
	<-w.Done()
	if r, _ := store.count(); r != 50 {
		t.Errorf("%d of 50 records written on stop", r)
	}
}

// TestWriterCollects: records past the retention go, then the oldest beyond
// MaxRecords; other profiles' records stay.
func TestWriterCollects(t *testing.T) {
	store := newFakeStore()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	w := testWriter(store, "collected", Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 3})
	w.now = func() time.Time { return now }
	for i := range 6 {
		// uid-0 is 5 h old ... uid-5 is now.
		d := record("collected", i, 1, now.Add(-time.Duration(5-i)*time.Hour+time.Minute))
		store.records[d.Namespace+"/"+d.Name] = d
	}
	// Within the retention: 30, 20 and 10 minutes old, and now.
	for i, age := range []time.Duration{30 * time.Minute, 20 * time.Minute, 10 * time.Minute} {
		d := record("collected", 10+i, 1, now.Add(-age))
		store.records[d.Namespace+"/"+d.Name] = d
	}
	other := record("other", 99, 1, now.Add(-100*time.Hour))
	store.records["ns/"+other.Name] = other
	_, ctx := ktesting.NewTestContext(t)
	w.collect(ctx)
	if r, _ := store.count(); r != 10 {
		t.Fatalf("an idle writer (a standby) collected: %d records left of 10", r)
	}
	w.active.Store(true)
	w.collect(ctx)
	var left []string
	for name := range store.records {
		left = append(left, name)
	}
	want := map[string]bool{"ns/uid-11": true, "ns/uid-12": true, "ns/uid-5": true, "ns/uid-99": true}
	if len(left) != len(want) {
		t.Fatalf("left %v; want %v", left, want)
	}
	for _, name := range left {
		if !want[name] {
			t.Errorf("left %v; want %v", left, want)
		}
	}
}

// TestWriterBatchesFirstAttemptBindings: records of pods bound at their
// first attempt are written one object per namespace; a pod tried again,
// bound or not, gets its own.
func TestWriterBatchesFirstAttemptBindings(t *testing.T) {
	store := newFakeStore()
	w := testWriter(store, "batched", Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 100})
	for i := range 30 {
		d := record("batched", i, 1, time.Now())
		d.Outcome, d.Namespace = Bound, fmt.Sprintf("ns-%d", i%2)
		w.Enqueue(d)
	}
	for i, o := range []Outcome{Bound, Bound, Unschedulable, Nominated} {
		d := record("batched", 100+i, 2, time.Now())
		d.Outcome = o
		w.Enqueue(d)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	go w.Run(ctx)
	waitFor(t, "every record written", func() bool { r, _ := store.count(); return r == 34 })
	cancel()
	<-w.Done()
	records, writes := store.count()
	if len(store.batches) != 2 || len(store.records) != 4 || writes != 6 {
		t.Errorf("%d records in %d writes: %d batches, %d own records; want 34 in 6: 2 batches (one per namespace), 4 own", records, writes, len(store.batches), len(store.records))
	}
	for name, ds := range store.batches {
		if len(ds) != 15 {
			t.Errorf("batch %s holds %d records, want 15", name, len(ds))
		}
	}
}

// TestWriterWritesFullBatchesAtOnce: records wait for the flush, unless a
// full batch is queued, which is written at once, as one write.
func TestWriterWritesFullBatchesAtOnce(t *testing.T) {
	store := newFakeStore()
	w, cancel := startUnflushed(t, store, "full", 10)
	defer cancel()
	enqueue := func(from, to int) { enqueueBound(w, "full", from, to) }
	enqueue(0, 9)
	// Nothing wakes the writer: the flush is an hour away.
	time.Sleep(50 * time.Millisecond)
	if r, writes := store.count(); writes != 0 {
		t.Fatalf("%d records written in %d writes before a batch was full", r, writes)
	}
	enqueue(9, 10)
	waitFor(t, "the full batch written", func() bool { r, _ := store.count(); return r == 10 })
	if _, writes := store.count(); writes != 1 {
		t.Errorf("10 records in %d writes, want 1", writes)
	}
}

// startUnflushed runs a writer whose flush is an hour away, so that only a
// full batch of the given size, or stopping it, makes it write; cancel
// stops it.
func startUnflushed(t *testing.T, store Store, profile string, batch int) (*Writer, context.CancelFunc) {
	w := testWriter(store, profile, Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 100})
	w.flushEvery = time.Hour
	w.batch = batch
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	go w.Run(ctx)
	return w, cancel
}

// enqueueBound queues records from..to-1 of pods bound at their first
// attempt.
func enqueueBound(w *Writer, profile string, from, to int) {
	for i := from; i < to; i++ {
		d := record(profile, i, 1, time.Now())
		d.Outcome = Bound
		w.Enqueue(d)
	}
}

// gatedStore holds each batch write until gate lets it through.
type gatedStore struct {
	*fakeStore
	gate chan struct{}
}

func (s gatedStore) WriteBatch(ctx context.Context, namespace, profile string, ds []*Decision) error {
	<-s.gate
	return s.fakeStore.WriteBatch(ctx, namespace, profile, ds)
}

// TestWriterLeavesLateRecordsForTheFlush: records that arrive while a write
// is in flight are not written right after it (each write would then carry
// only what arrived during the one before), but wait for the flush, or for
// a full batch.
func TestWriterLeavesLateRecordsForTheFlush(t *testing.T) {
	store := gatedStore{fakeStore: newFakeStore(), gate: make(chan struct{})}
	w, cancel := startUnflushed(t, store, "late", 10)
	defer func() {
		close(store.gate)
		cancel()
		<-w.Done()
	}()
	enqueue := func(from, to int) { enqueueBound(w, "late", from, to) }
	enqueue(0, 10)
	waitFor(t, "the full batch taken", func() bool { return w.Len() == 0 })
	enqueue(10, 15)
	store.gate <- struct{}{}
	waitFor(t, "the full batch written", func() bool { r, _ := store.count(); return r == 10 })
	time.Sleep(50 * time.Millisecond)
	if n := w.Len(); n != 5 {
		t.Errorf("%d records queued after the write, want the 5 that arrived during it", n)
	}
}

// TestWriterCollectsBatches: a batch goes once its newest record is past the
// retention, or as a whole while there are more records than MaxRecords,
// counting each of its records.
func TestWriterCollectsBatches(t *testing.T) {
	store := newFakeStore()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	w := testWriter(store, "batches", Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 4})
	w.now = func() time.Time { return now }
	w.active.Store(true)
	batch := func(name string, ages ...time.Duration) {
		var ds []*Decision
		for i, age := range ages {
			ds = append(ds, record("batches", len(store.batches)*10+i, 1, now.Add(-age)))
		}
		store.batches["ns/"+name] = ds
	}
	batch("expired", 3*time.Hour, 2*time.Hour)
	batch("straddling", 2*time.Hour, 50*time.Minute)
	batch("older", 40*time.Minute, 30*time.Minute, 30*time.Minute)
	batch("newer", 10*time.Minute, 5*time.Minute)
	own := record("batches", 99, 2, now.Add(-time.Minute))
	store.records["ns/"+own.Name] = own
	_, ctx := ktesting.NewTestContext(t)
	before, _ := testutil.GetCounterMetricValue(recordsDeleted.WithLabelValues("batches"))
	w.collect(ctx)
	var left []string
	for name := range store.batches {
		left = append(left, name)
	}
	slices.Sort(left)
	// 8 records within the retention (straddling's 2, older's 3, newer's 2,
	// the own one): the oldest objects go until at most 4 are left.
	if want := []string{"ns/newer"}; !slices.Equal(left, want) || len(store.records) != 1 {
		t.Errorf("left batches %v and %d own records; want %v and the own record", left, len(store.records), want)
	}
	if got, _ := testutil.GetCounterMetricValue(recordsDeleted.WithLabelValues("batches")); got-before != 7 {
		t.Errorf("%v records counted deleted, want 7 (2 expired, then 2 and 3 beyond the count)", got-before)
	}
}

// TestWriterDropsRecordsOfGoneNamespaces: records whose namespace was
// deleted, or that the API server refuses as invalid, cannot be written;
// they are dropped and counted at once instead of being retried, which
// would hold back the others behind a backoff.
func TestWriterDropsRecordsOfGoneNamespaces(t *testing.T) {
	store := newFakeStore()
	w := testWriter(store, "gone", Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 100})
	before := dropped(t, "gone")
	for i := range 20 {
		d := record("gone", i, 1+i%2, time.Now())
		d.Outcome = Bound
		switch {
		case i < 5:
			d.Namespace = gone
		case i < 10:
			// Refused as invalid (a CRD older than the scheduler): no
			// retry helps either.
			d.Namespace = refused
		}
		w.Enqueue(d)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "the other records written", func() bool { r, _ := store.count(); return r == 10 })
	waitFor(t, "the gone and refused namespaces' records dropped", func() bool { return dropped(t, "gone")-before == 10 })
	if n := w.Len(); n != 0 {
		t.Errorf("%d records still queued", n)
	}
}
