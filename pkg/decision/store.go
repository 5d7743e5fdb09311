package decision

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"
)

// FieldManager owns the fields the scheduler writes.
const FieldManager = "placement-scheduler"

// APIStore keeps records as PlacementDecision objects.
type APIStore struct {
	client dynamic.Interface
}

// NewAPIStore returns a store over client.
func NewAPIStore(client dynamic.Interface) *APIStore { return &APIStore{client: client} }

// Write creates the record, or replaces the pod's previous one (a pod
// tried again): a create is one request and the cheapest write for the API
// server (a server-side apply costs it several times more CPU); a
// replacement reads the previous record's resourceVersion first.
func (s *APIStore) Write(ctx context.Context, d *Decision) error {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: obj}
	client := s.client.Resource(GroupVersionResource).Namespace(d.Namespace)
	_, err = client.Create(ctx, u, metav1.CreateOptions{FieldManager: FieldManager})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old, err := client.Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	u.SetResourceVersion(old.GetResourceVersion())
	_, err = client.Update(ctx, u, metav1.UpdateOptions{FieldManager: FieldManager})
	return err
}

// List pages through the records of every namespace.
func (s *APIStore) List(ctx context.Context, profile string, fn func(*Decision)) error {
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return s.client.Resource(GroupVersionResource).List(ctx, opts)
	})
	return p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		d, err := FromUnstructured(obj.(*unstructured.Unstructured))
		if err != nil {
			return err
		}
		if d.Profile == profile {
			fn(d)
		}
		return nil
	})
}

// Delete removes a record.
func (s *APIStore) Delete(ctx context.Context, namespace, name string) error {
	err := s.client.Resource(GroupVersionResource).Namespace(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// FromUnstructured converts an object read with a dynamic client.
func FromUnstructured(u *unstructured.Unstructured) (*Decision, error) {
	var d Decision
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
