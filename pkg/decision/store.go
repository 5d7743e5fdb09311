package decision

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"
)

// FieldManager owns the fields the scheduler writes.
const FieldManager = "placement-scheduler"

// APIStore keeps records as PlacementDecision and PlacementDecisionBatch
// objects.
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

// WriteBatch creates one PlacementDecisionBatch holding the records, all of
// namespace, under a generated name: one request for them all.
func (s *APIStore) WriteBatch(ctx context.Context, namespace, profile string, ds []*Decision) error {
	b := &DecisionBatch{
		TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: BatchKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: batchPrefix},
		Profile:    profile,
		Decisions:  make([]Decision, 0, len(ds)),
	}
	for _, d := range ds {
		b.Decisions = append(b.Decisions, *d)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(b)
	if err != nil {
		return err
	}
	_, err = s.client.Resource(BatchGroupVersionResource).Namespace(namespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{FieldManager: FieldManager})
	if !apierrors.IsNotFound(err) {
		return err
	}
	// Batches are not served (their CRD was not installed: helm does not
	// upgrade CRDs), or the namespace is gone: write the records one by one,
	// which says which.
	for _, d := range ds {
		if err := s.Write(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// batchPrefix starts the generated names of batches.
const batchPrefix = "batch-"

// List pages through the profile's records and batches of every namespace.
func (s *APIStore) List(ctx context.Context, profile string, fn func(Stored)) error {
	err := eachObject(ctx, s.client, GroupVersionResource, "", metav1.ListOptions{}, func(u *unstructured.Unstructured) error {
		d, err := FromUnstructured(u)
		if err != nil {
			return err
		}
		if d.Profile == profile {
			fn(Stored{Namespace: d.Namespace, Name: d.Name, Records: 1, Newest: d.Time.Time})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return eachObject(ctx, s.client, BatchGroupVersionResource, "", metav1.ListOptions{}, func(u *unstructured.Unstructured) error {
		b, err := batchFromUnstructured(u)
		if err != nil {
			return err
		}
		if b.Profile == profile {
			st := Stored{Namespace: b.Namespace, Name: b.Name, Batch: true, Records: len(b.Decisions)}
			for _, d := range b.Decisions {
				if d.Time.Time.After(st.Newest) {
					st.Newest = d.Time.Time
				}
			}
			fn(st)
		}
		return nil
	})
}

// eachObject pages through the objects of a resource in namespace ("":
// every namespace).
func eachObject(ctx context.Context, client dynamic.Interface, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions, fn func(*unstructured.Unstructured) error) error {
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return client.Resource(gvr).Namespace(namespace).List(ctx, opts)
	})
	return p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("listing %s: got %T", gvr.Resource, obj)
		}
		return fn(u)
	})
}

// Delete removes a record or a batch; one already gone is not an error.
func (s *APIStore) Delete(ctx context.Context, o Stored) error {
	gvr := GroupVersionResource
	if o.Batch {
		gvr = BatchGroupVersionResource
	}
	err := s.client.Resource(gvr).Namespace(o.Namespace).Delete(ctx, o.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// FromUnstructured converts a PlacementDecision read with a dynamic client.
func FromUnstructured(u *unstructured.Unstructured) (*Decision, error) {
	var d Decision
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// batchFromUnstructured converts a PlacementDecisionBatch; its records get
// the batch's namespace.
func batchFromUnstructured(u *unstructured.Unstructured) (*DecisionBatch, error) {
	var b DecisionBatch
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
		return nil, err
	}
	for i := range b.Decisions {
		b.Decisions[i].Namespace = b.Namespace
	}
	return &b, nil
}
