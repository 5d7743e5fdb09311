package decision

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
)

// fakeStore keeps records in memory; fail makes writes fail while set.
type fakeStore struct {
	mu      sync.Mutex
	records map[string]*Decision
	writes  int
	fail    bool
	written chan struct{}
}

func newFakeStore() *fakeStore {
	return &fakeStore{records: map[string]*Decision{}, written: make(chan struct{}, 1000)}
}

func (s *fakeStore) Write(_ context.Context, d *Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("apiserver down")
	}
	s.writes++
	s.records[d.Namespace+"/"+d.Name] = d
	s.written <- struct{}{}
	return nil
}

func (s *fakeStore) List(_ context.Context, profile string, fn func(*Decision)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.records {
		if d.Profile == profile {
			fn(d)
		}
	}
	return nil
}

func (s *fakeStore) Delete(_ context.Context, namespace, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, namespace+"/"+name)
	return nil
}

func (s *fakeStore) setFail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

func (s *fakeStore) count() (records, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records), s.writes
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
	w := testWriter(store, "stopping", Config{QueueSize: 100, Retention: time.Hour, MaxRecords: 100})
	w.flushEvery = time.Hour
	w.batch = 1000
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	go w.Run(ctx)
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
