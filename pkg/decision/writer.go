package decision

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
)

// Store keeps records. The Writer calls it from its own goroutines only.
type Store interface {
	// Write creates or replaces a pod's own record.
	Write(ctx context.Context, d *Decision) error
	// WriteBatch stores records of namespace, all Batched, as one object
	// (one request).
	WriteBatch(ctx context.Context, namespace, profile string, ds []*Decision) error
	// List calls fn with each stored object of the profile.
	List(ctx context.Context, profile string, fn func(Stored)) error
	// Delete removes a stored object; one already gone is not an error.
	Delete(ctx context.Context, o Stored) error
}

// Stored is one stored object as collection sees it: a pod's record, or a
// batch of records.
type Stored struct {
	Namespace, Name string
	Batch           bool
	Records         int
	// Newest is the decision time of its newest record.
	Newest time.Time
}

// Writer queues records and writes them in the background, so that the
// scheduling cycle never waits for the API server. The queue holds at most
// Config.QueueSize records, one per pod: a newer record of a queued pod takes
// its place. When the queue is full the new record is dropped and counted.
// Records are written every flushEvery (half a second), or at once when a
// full batch is queued: the API server's work for a write is mostly per
// request below a few dozen records (docs/decisions.md, "What it costs").
// It also deletes the profile's records past Config.Retention and beyond
// Config.MaxRecords.
type Writer struct {
	store   Store
	profile string
	cfg     Config

	mu    sync.Mutex
	queue map[types.UID]*Decision
	order []types.UID
	wake  chan struct{}

	// Tunables, set by NewWriter; tests shorten them.
	batch      int
	workers    int
	flushEvery time.Duration
	gcEvery    time.Duration
	stopGrace  time.Duration
	now        func() time.Time

	// active is set by the first record: only a scheduler that schedules
	// (the leader) collects old records.
	active atomic.Bool
	// abandoned: the writer stops without writing what it holds.
	abandoned atomic.Bool

	done chan struct{}
}

// NewWriter returns a writer of one profile's records; Run starts it.
func NewWriter(store Store, profile string, cfg Config) *Writer {
	registerMetrics()
	gcEvery := min(max(cfg.Retention/10, time.Minute), 10*time.Minute)
	return &Writer{
		store: store, profile: profile, cfg: cfg,
		queue: map[types.UID]*Decision{}, wake: make(chan struct{}, 1),
		batch: 100, workers: 4, flushEvery: 500 * time.Millisecond, gcEvery: gcEvery, stopGrace: 5 * time.Second,
		now:  time.Now,
		done: make(chan struct{}),
	}
}

// Enqueue queues d; it never blocks.
func (w *Writer) Enqueue(d *Decision) {
	w.active.Store(true)
	if !w.push(d, true) || w.Len() < w.batch {
		return
	}
	// A full batch waits for nothing more.
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// push queues d at the tail and reports whether it did. A queued record of
// the same pod is replaced by d if replace is set (a newer attempt), else d
// is dropped silently (it is the older one); a full queue drops d and
// counts it.
func (w *Writer) push(d *Decision, replace bool) bool {
	uid := types.UID(d.Pod.UID)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, queued := w.queue[uid]; queued {
		if replace {
			w.queue[uid] = d
		}
		return false
	}
	if len(w.order) >= w.cfg.QueueSize {
		recordsDropped.WithLabelValues(w.profile).Inc()
		return false
	}
	w.queue[uid] = d
	w.order = append(w.order, uid)
	queueLength.WithLabelValues(w.profile).Set(float64(len(w.order)))
	return true
}

// take removes up to n records from the head of the queue.
func (w *Writer) take(n int) []*Decision {
	w.mu.Lock()
	defer w.mu.Unlock()
	n = min(n, len(w.order))
	out := make([]*Decision, 0, n)
	for _, uid := range w.order[:n] {
		out = append(out, w.queue[uid])
		delete(w.queue, uid)
	}
	w.order = append(w.order[:0], w.order[n:]...)
	queueLength.WithLabelValues(w.profile).Set(float64(len(w.order)))
	return out
}

// requeue puts back a record whose write failed, unless a newer record of
// the pod is queued or the queue is full (then it is dropped and counted).
func (w *Writer) requeue(d *Decision) {
	w.push(d, false)
}

// Queued lists the pods of the queued records that match.
func (w *Writer) Queued(match func(*Decision) bool) []types.UID {
	w.mu.Lock()
	defer w.mu.Unlock()
	var pods []types.UID
	for uid, d := range w.queue {
		if match(d) {
			pods = append(pods, uid)
		}
	}
	return pods
}

// Len is the number of queued records.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.order)
}

// Run writes queued records until ctx ends, then tries for a few seconds
// more to write what is left (a stopping leader's last decisions), and
// returns. Failed writes back off, up to 5 s, while the records wait in the
// bounded queue: a write to an API server that is down costs nothing to try
// again, while a longer wait, once it is back, lets the queue overflow.
func (w *Writer) Run(ctx context.Context) {
	defer close(w.done)
	logger := klog.FromContext(ctx).WithValues("profile", w.profile)
	ctx = klog.NewContext(ctx, logger)
	backoff := wait.Backoff{Duration: time.Second, Factor: 2, Cap: 5 * time.Second, Steps: 1 << 30}
	delay := w.flushEvery
	flush := time.NewTimer(delay)
	defer flush.Stop()
	gc := time.NewTicker(w.gcEvery)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			w.drain(logger)
			return
		case <-gc.C:
			w.collect(ctx)
			continue
		case <-w.wake:
		case <-flush.C:
		}
		if w.writeAll(ctx) {
			backoff.Duration, delay = time.Second, w.flushEvery
		} else {
			delay = backoff.Step()
		}
		flush.Reset(delay)
	}
}

// Abandon makes the writer stop, when its context ends, without writing
// what it holds, as a killed process would; Len then counts what was lost
// (records of attempts that end later are queued, and lost, too). Tests use
// it to stand for SIGKILL.
func (w *Writer) Abandon() {
	w.abandoned.Store(true)
}

// Done is closed once Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// drain writes what is queued when the writer stops, within stopGrace.
func (w *Writer) drain(logger klog.Logger) {
	ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), logger), w.stopGrace)
	defer cancel()
	for w.Len() > 0 && ctx.Err() == nil && !w.abandoned.Load() {
		if !w.writeAll(ctx) {
			break
		}
	}
	if n := w.Len(); n > 0 {
		recordsDropped.WithLabelValues(w.profile).Add(float64(n))
		logger.Info("Stopped with decision records unwritten", "records", n)
	}
}

// writeAll writes the queue in batches, then full batches only, until the
// queue holds less than a batch or a write fails; it reports whether all
// writes succeeded. Records that arrive during the writes wait for the next
// flush unless they make a full batch: otherwise, under load, each write
// would carry only what arrived during the one before.
func (w *Writer) writeAll(ctx context.Context) bool {
	for first := true; ; first = false {
		if !first && w.Len() < w.batch {
			return true
		}
		batch := w.take(w.batch)
		if len(batch) == 0 {
			return true
		}
		if !w.write(ctx, batch) {
			return false
		}
	}
}

// write writes records taken from the queue with a few concurrent
// requests: the Batched ones one object per namespace, the others one
// object each. Records whose write failed go back to the queue.
func (w *Writer) write(ctx context.Context, records []*Decision) bool {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		next   = make(chan []*Decision)
	)
	logger := klog.FromContext(ctx)
	writes := group(records)
	for range min(w.workers, len(writes)) {
		wg.Go(func() {
			for ds := range next {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				var err error
				if len(ds) == 1 && !Batched(ds[0]) {
					err = w.store.Write(wctx, ds[0])
				} else {
					err = w.store.WriteBatch(wctx, ds[0].Namespace, w.profile, ds)
				}
				cancel()
				if err == nil {
					recordWrites.WithLabelValues(w.profile).Inc()
					recordsWritten.WithLabelValues(w.profile).Add(float64(len(ds)))
					continue
				}
				// The namespace is gone (or the records' resources are not
				// served): no retry can write them, and retrying would hold
				// back every other record.
				if apierrors.IsNotFound(err) {
					recordsDropped.WithLabelValues(w.profile).Add(float64(len(ds)))
					logger.V(2).Info("Dropping decision records: nowhere to write them", "records", len(ds), "namespace", ds[0].Namespace, "err", err)
					continue
				}
				// The API server refuses them: its CRD is older than this
				// scheduler (helm does not upgrade CRDs). No retry helps
				// either, and the operator has something to do.
				if apierrors.IsInvalid(err) {
					recordsDropped.WithLabelValues(w.profile).Add(float64(len(ds)))
					logger.Error(err, "Dropping decision records the API server refuses; apply the CRDs of this release (manifests/crds/, the chart's crds/)", "records", len(ds), "namespace", ds[0].Namespace)
					continue
				}
				writeErrors.WithLabelValues(w.profile).Inc()
				mu.Lock()
				failed++
				if failed == 1 {
					logger.V(2).Info("Writing decision records failed; will retry", "records", len(ds), "namespace", ds[0].Namespace, "err", err)
				}
				mu.Unlock()
				for _, d := range ds {
					w.requeue(d)
				}
			}
		})
	}
	for _, ds := range writes {
		next <- ds
	}
	close(next)
	wg.Wait()
	return failed == 0
}

// group splits records into writes: one per namespace for the Batched
// records, one per record for the others, in the order first seen.
func group(records []*Decision) [][]*Decision {
	var writes [][]*Decision
	batchOf := map[string]int{}
	for _, d := range records {
		if !Batched(d) {
			writes = append(writes, []*Decision{d})
			continue
		}
		i, ok := batchOf[d.Namespace]
		if !ok {
			i = len(writes)
			batchOf[d.Namespace] = i
			writes = append(writes, nil)
		}
		writes[i] = append(writes[i], d)
	}
	return writes
}

// collect deletes the profile's records older than the retention, then the
// oldest beyond MaxRecords; a batch goes as a whole, once its newest record
// is past the retention, or while the records left are too many.
func (w *Writer) collect(ctx context.Context) {
	if !w.active.Load() {
		return
	}
	logger := klog.FromContext(ctx)
	var kept, expired []Stored
	records := 0
	cutoff := w.now().Add(-w.cfg.Retention)
	err := w.store.List(ctx, w.profile, func(o Stored) {
		if o.Newest.Before(cutoff) {
			expired = append(expired, o)
		} else {
			kept = append(kept, o)
			records += o.Records
		}
	})
	if err != nil {
		logger.V(2).Info("Listing decision records failed; will retry", "err", err)
		return
	}
	slices.SortFunc(kept, func(a, b Stored) int { return a.Newest.Compare(b.Newest) })
	for _, o := range kept {
		if records <= w.cfg.MaxRecords {
			break
		}
		expired = append(expired, o)
		records -= o.Records
	}
	for _, o := range expired {
		if err := w.store.Delete(ctx, o); err != nil {
			logger.V(2).Info("Deleting decision records failed; will retry", "object", o.Namespace+"/"+o.Name, "err", err)
			return
		}
		recordsDeleted.WithLabelValues(w.profile).Add(float64(o.Records))
	}
}
