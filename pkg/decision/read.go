package decision

import (
	"cmp"
	"context"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"
)

// DecisionList is records, newest first.
type DecisionList struct {
	metav1.TypeMeta `json:",inline"`
	Items           []Decision `json:"items"`
}

// ListOptions select records.
type ListOptions struct {
	// Namespace; empty means every namespace.
	Namespace string
	// Selector is a label selector over the pods' labels, which the
	// records carry.
	Selector string
	// PodName keeps the records of pods of that name (every incarnation).
	PodName string
	// Since keeps the records of decisions made at most this long before
	// Now; 0 keeps all.
	Since time.Duration
	Now   time.Time
}

// List reads the records the options select, newest first.
func List(ctx context.Context, client dynamic.Interface, o ListOptions) (*DecisionList, error) {
	opts := metav1.ListOptions{LabelSelector: o.Selector}
	if o.PodName != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("pod.name", o.PodName).String()
	}
	out := &DecisionList{TypeMeta: metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind + "List"}, Items: []Decision{}}
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return client.Resource(GroupVersionResource).Namespace(o.Namespace).List(ctx, opts)
	})
	cutoff := o.Now.Add(-o.Since)
	err := p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		d, err := fromObject(obj)
		if err != nil {
			return err
		}
		if o.Since > 0 && d.Time.Time.Before(cutoff) {
			return nil
		}
		out.Items = append(out.Items, *d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out.Items, func(a, b Decision) int {
		if c := b.Time.Time.Compare(a.Time.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Namespace+"/"+a.Pod.Name, b.Namespace+"/"+b.Pod.Name)
	})
	return out, nil
}

// Get reads the record of the pod with this UID; nil when there is none.
func Get(ctx context.Context, client dynamic.Interface, namespace, uid string) (*Decision, error) {
	u, err := client.Resource(GroupVersionResource).Namespace(namespace).Get(ctx, uid, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return FromUnstructured(u)
}

func fromObject(obj runtime.Object) (*Decision, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	var d Decision
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeepCopy copies the record, sharing nothing with it.
func (d *Decision) DeepCopy() *Decision {
	out := *d
	d.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Rejections = slices.Clone(d.Rejections)
	for i := range out.Rejections {
		out.Rejections[i].Examples = slices.Clone(d.Rejections[i].Examples)
	}
	out.Scores = slices.Clone(d.Scores)
	for i := range out.Scores {
		out.Scores[i].Plugins = slices.Clone(d.Scores[i].Plugins)
	}
	if d.Margin != nil {
		m := *d.Margin
		out.Margin = &m
	}
	return &out
}

// DeepCopyObject makes a Decision a runtime.Object, for kubectl's printers.
func (d *Decision) DeepCopyObject() runtime.Object { return d.DeepCopy() }

// DeepCopyObject makes a DecisionList a runtime.Object.
func (l *DecisionList) DeepCopyObject() runtime.Object {
	out := &DecisionList{TypeMeta: l.TypeMeta, Items: make([]Decision, len(l.Items))}
	for i := range l.Items {
		out.Items[i] = *l.Items[i].DeepCopy()
	}
	return out
}
