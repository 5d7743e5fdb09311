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

// namespaceView answers "what labels does this namespace have" for
// namespaceSelectors. It reads the scheduler's typed namespace informer, but
// the namespace events that requeue pods come from a second, dynamic
// informer, which can be ahead of it. A pod requeued because a namespace was
// relabelled could then be retried against the old labels, fail, and wait
// for the periodic flush (minutes). So the queueing hint records every
// namespace object it sees, and reads take the newer of the two copies.
type namespaceView struct {
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

func newNamespaceView(lister listersv1.NamespaceLister) *namespaceView {
	return &namespaceView{lister: lister, ahead: map[string]seenNamespace{}}
}

// observe records a namespace object delivered by an event, unless the
// lister already holds that version or a newer one.
func (v *namespaceView) observe(obj metav1.Object) {
	name, rv := obj.GetName(), obj.GetResourceVersion()
	if cur, err := v.lister.Get(name); err == nil && !newer(rv, cur.ResourceVersion) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev, ok := v.ahead[name]; ok && !newer(rv, prev.resourceVersion) {
		return
	}
	v.ahead[name] = seenNamespace{resourceVersion: rv, labels: labels.Merge(obj.GetLabels(), nil)}
}

// caughtUp drops what the lister now knows at least as well: called from the
// typed informer's handlers, so that nothing stays in ahead for long.
func (v *namespaceView) caughtUp(name, resourceVersion string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev, ok := v.ahead[name]; ok && !newer(prev.resourceVersion, resourceVersion) {
		delete(v.ahead, name)
	}
}

func (v *namespaceView) deleted(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.ahead, name)
}

// labels returns the namespace's labels and whether it exists.
func (v *namespaceView) labels(name string) (labels.Set, bool, error) {
	ns, err := v.lister.Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, false, err
	}
	if seen, ok := v.newerThanLister(name, ns); ok {
		return seen.labels, true, nil
	}
	if ns == nil {
		return nil, false, nil
	}
	return ns.Labels, true, nil
}

// list returns the names of the namespaces selector selects.
func (v *namespaceView) list(selector labels.Selector) ([]string, error) {
	listed, err := v.lister.List(selector)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	names := make([]string, 0, len(listed))
	for _, ns := range listed {
		if seen, ok := v.ahead[ns.Name]; !ok || !newer(seen.resourceVersion, ns.ResourceVersion) {
			names = append(names, ns.Name)
		}
	}
	// Usually empty: the recorded copies that are newer than the lister's
	// decide on their own labels.
	for name, seen := range v.ahead {
		if !selector.Matches(seen.labels) {
			continue
		}
		if ns, err := v.lister.Get(name); err != nil || newer(seen.resourceVersion, ns.ResourceVersion) {
			names = append(names, name)
		}
	}
	return names, nil
}

// newerThanLister returns the recorded copy of name if it is newer than ns,
// the lister's (nil when the lister has none).
func (v *namespaceView) newerThanLister(name string, ns *v1.Namespace) (seenNamespace, bool) {
	v.mu.RLock()
	seen, ok := v.ahead[name]
	v.mu.RUnlock()
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

// follow prunes the view from the typed informer's own events.
func (v *namespaceView) follow(informer cache.SharedIndexInformer) error {
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    v.onTyped,
		UpdateFunc: func(_, obj any) { v.onTyped(obj) },
		DeleteFunc: func(obj any) {
			if name, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				v.deleted(name)
			}
		},
	})
	return err
}

func (v *namespaceView) onTyped(obj any) {
	if m, err := meta.Accessor(obj); err == nil {
		v.caughtUp(m.GetName(), m.GetResourceVersion())
	}
}
