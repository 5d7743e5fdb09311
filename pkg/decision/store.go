package decision

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/pager"
)

// FieldManager owns the fields the scheduler writes.
const FieldManager = "placement-scheduler"

// APIStore keeps records as PlacementDecision and PlacementDecisionBatch
// objects. It writes through a REST client of the records' group version,
// with the JSON encoded straight from the records and the API server's
// answer left undecoded: of what a write costs the scheduler, converting to
// and from unstructured objects was most.
type APIStore struct {
	client dynamic.Interface
	writes rest.Interface
}

// NewAPIStore returns a store that reaches the API server with config.
func NewAPIStore(config *rest.Config) (*APIStore, error) {
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, err
	}
	c := rest.CopyConfig(config)
	c.GroupVersion = &schema.GroupVersion{Group: Group, Version: Version}
	c.APIPath = "/apis"
	c.ContentType = runtime.ContentTypeJSON
	// The answer to a write is the object as stored, which the writer does
	// not read: asking for its metadata alone spares the API server
	// encoding, and the connection carrying, the records again.
	c.AcceptContentTypes = metadataOnly + "," + runtime.ContentTypeJSON
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	writes, err := rest.RESTClientForConfigAndClient(c, httpClient)
	if err != nil {
		return nil, err
	}
	return &APIStore{client: client, writes: writes}, nil
}

// Write creates the record, or replaces the pod's previous one (a pod
// tried again): a create is one request and the cheapest write for the API
// server (a server-side apply costs it several times more CPU); a
// replacement reads the previous record's resourceVersion first.
func (s *APIStore) Write(ctx context.Context, d *Decision) error {
	err := s.send(ctx, s.writes.Post().Namespace(d.Namespace).Resource(Resource), d)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old, err := s.client.Resource(GroupVersionResource).Namespace(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	replacement := *d
	replacement.ResourceVersion = old.GetResourceVersion()
	return s.send(ctx, s.writes.Put().Namespace(d.Namespace).Resource(Resource).Name(d.Name), &replacement)
}

// WriteBatch creates one PlacementDecisionBatch holding the records, all of
// namespace, under a generated name: one request for them all.
func (s *APIStore) WriteBatch(ctx context.Context, namespace, profile string, ds []*Decision) error {
	b, err := packBatch(namespace, profile, ds)
	if err != nil {
		return err
	}
	err = s.send(ctx, s.writes.Post().Namespace(namespace).Resource(BatchResource), b)
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

// metadataOnly asks the API server to answer with the object's metadata.
const metadataOnly = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

// send sends obj as the JSON body of req, as the scheduler's field manager.
// The answer is not decoded: only its status counts. The records hold no
// field the schema lacks (the scheduler alone writes them), so the API
// server is spared looking for unknown fields.
func (s *APIStore) send(ctx context.Context, req *rest.Request, obj any) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return req.Param("fieldManager", FieldManager).Param("fieldValidation", "Ignore").Body(body).Do(ctx).Error()
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
		b, err := batchHeader(u)
		if err != nil {
			return err
		}
		if b.Profile == profile {
			fn(b.stored())
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
