package podaffinity

import (
	"sync"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// namespaceTracker answers "what labels does this namespace have" for
// namespaceSelectors. It reads the scheduler's typed namespace informer, but
// the namespace events that requeue pods come from a second, dynamic
// informer, which can be ahead of it. A pod requeued because a namespace was
// relabelled could then be retried against the old labels, fail, and wait
// for the periodic flush (minutes). So the queueing hint records every
// namespace object it sees, and reads take the newer of the two copies.
type namespaceTracker struct {
	lister listersv1.NamespaceLister

	mu sync.RWMutex
	// ahead holds namespaces seen by the hint and not yet known to be in
	// the lister. It stays small: entries go as soon as the lister catches
	// up or the namespace is deleted.
	ahead map[string]seenNamespace
}

type seenNamespace struct {
	resourceVersion string
	labels          labels.Set
}

func newNamespaceTracker(lister listersv1.NamespaceLister) *namespaceTracker {
	return &namespaceTracker{lister: lister, ahead: map[string]seenNamespace{}}
}

// observe records a namespace object delivered by an event, unless the
// lister already holds that version or a newer one.
func (t *namespaceTracker) observe(obj metav1.Object) {
	name, rv := obj.GetName(), obj.GetResourceVersion()
	if cur, err := t.lister.Get(name); err == nil && !newer(rv, cur.ResourceVersion) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.ahead[name]; ok && !newer(rv, prev.resourceVersion) {
		return
	}
	t.ahead[name] = seenNamespace{resourceVersion: rv, labels: labels.Merge(obj.GetLabels(), nil)}
}

// caughtUp drops what the lister now knows at least as well: called from the
// typed informer's handlers, so that nothing stays in ahead for long.
func (t *namespaceTracker) caughtUp(name, resourceVersion string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.ahead[name]; ok && !newer(prev.resourceVersion, resourceVersion) {
		delete(t.ahead, name)
	}
}

func (t *namespaceTracker) deleted(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ahead, name)
}

// labels returns the namespace's labels and whether it exists.
func (t *namespaceTracker) labels(name string) (labels.Set, bool, error) {
	ns, err := t.lister.Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, false, err
	}
	if seen, ok := t.newerThanLister(name, ns); ok {
		return seen.labels, true, nil
	}
	if ns == nil {
		return nil, false, nil
	}
	return ns.Labels, true, nil
}

// list returns the names of the namespaces selector selects.
func (t *namespaceTracker) list(selector labels.Selector) ([]string, error) {
	listed, err := t.lister.List(selector)
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	names := make([]string, 0, len(listed))
	for _, ns := range listed {
		if seen, ok := t.ahead[ns.Name]; !ok || !newer(seen.resourceVersion, ns.ResourceVersion) {
			names = append(names, ns.Name)
		}
	}
	// Usually empty: the recorded copies that are newer than the lister's
	// decide on their own labels.
	for name, seen := range t.ahead {
		if !selector.Matches(seen.labels) {
			continue
		}
		if ns, err := t.lister.Get(name); err != nil || newer(seen.resourceVersion, ns.ResourceVersion) {
			names = append(names, name)
		}
	}
	return names, nil
}

// newerThanLister returns the recorded copy of name if it is newer than ns,
// the lister's (nil when the lister has none).
func (t *namespaceTracker) newerThanLister(name string, ns *v1.Namespace) (seenNamespace, bool) {
	t.mu.RLock()
	seen, ok := t.ahead[name]
	t.mu.RUnlock()
	if !ok {
		return seenNamespace{}, false
	}
	if ns == nil || newer(seen.resourceVersion, ns.ResourceVersion) {
		return seen, true
	}
	return seenNamespace{}, false
}

// newer reports whether resource version a is later than b. Versions that
// cannot be compared (fake clients leave them empty) count as not newer, so
// the lister stays the source of truth.
func newer(a, b string) bool {
	c, err := resourceversion.CompareResourceVersion(a, b)
	return err == nil && c > 0
}

// follow prunes the tracker from the typed informer's own events.
func (t *namespaceTracker) follow(informer cache.SharedIndexInformer) error {
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    t.onTyped,
		UpdateFunc: func(_, obj any) { t.onTyped(obj) },
		DeleteFunc: func(obj any) {
			if name, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				t.deleted(name)
			}
		},
	})
	return err
}

func (t *namespaceTracker) onTyped(obj any) {
	if m, err := meta.Accessor(obj); err == nil {
		t.caughtUp(m.GetName(), m.GetResourceVersion())
	}
}
