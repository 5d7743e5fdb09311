package decision

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
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

// List reads the records the options select, newest first, one per pod
// (see latest): the pods' own records, which the API server selects, and
// the batched ones, selected here.
func List(ctx context.Context, client dynamic.Interface, o ListOptions) (*DecisionList, error) {
	selector, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, fmt.Errorf("parsing the label selector: %w", err)
	}
	cutoff := o.Now.Add(-o.Since)
	var items []Decision
	keep := func(d *Decision) {
		if o.Since == 0 || !d.Time.Time.Before(cutoff) {
			items = append(items, *d)
		}
	}
	opts := metav1.ListOptions{LabelSelector: o.Selector}
	if o.PodName != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("pod.name", o.PodName).String()
	}
	err = eachObject(ctx, client, GroupVersionResource, o.Namespace, opts, func(u *unstructured.Unstructured) error {
		d, err := FromUnstructured(u)
		if err == nil {
			keep(d)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = eachBatch(ctx, client, o.Namespace, func(b *DecisionBatch) {
		for i := range b.Decisions {
			d := &b.Decisions[i]
			if selector.Matches(labels.Set(d.Labels)) && (o.PodName == "" || d.Pod.Name == o.PodName) {
				keep(d)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	items = latest(items)
	slices.SortStableFunc(items, func(a, b Decision) int {
		if c := b.Time.Time.Compare(a.Time.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Namespace+"/"+a.Pod.Name, b.Namespace+"/"+b.Pod.Name)
	})
	return &DecisionList{TypeMeta: metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind + "List"}, Items: items}, nil
}

// eachBatch calls fn with every batch in namespace ("": every namespace).
// Where batches are not served (a cluster whose CRDs predate them) there are
// none.
func eachBatch(ctx context.Context, client dynamic.Interface, namespace string, fn func(*DecisionBatch)) error {
	err := eachObject(ctx, client, BatchGroupVersionResource, namespace, metav1.ListOptions{}, func(u *unstructured.Unstructured) error {
		b, err := BatchFromUnstructured(u)
		if err == nil {
			fn(b)
		}
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// latest keeps one record per pod, the newest: a pod has two only when a
// scheduler that restarted bound at its first attempt a pod an earlier one
// had already tried, and the earlier record lingers until collected.
func latest(items []Decision) []Decision {
	at := map[string]int{}
	out := make([]Decision, 0, len(items))
	for _, d := range items {
		i, seen := at[d.Pod.UID]
		switch {
		case !seen:
			at[d.Pod.UID] = len(out)
			out = append(out, d)
		case d.Time.Time.After(out[i].Time.Time):
			out[i] = d
		}
	}
	return out
}

// Get reads the record of the pod with this UID; nil when there is none.
// A pod's own record that says Bound is final; otherwise a batch may hold a
// newer one (see latest), so the namespace's batches are read too.
func Get(ctx context.Context, client dynamic.Interface, namespace, uid string) (*Decision, error) {
	var found []Decision
	u, err := client.Resource(GroupVersionResource).Namespace(namespace).Get(ctx, uid, metav1.GetOptions{})
	switch {
	case err == nil:
		d, err := FromUnstructured(u)
		if err != nil {
			return nil, err
		}
		if d.Outcome == Bound {
			return d, nil
		}
		found = append(found, *d)
	case !apierrors.IsNotFound(err):
		return nil, err
	}
	err = eachBatch(ctx, client, namespace, func(b *DecisionBatch) {
		for _, d := range b.Decisions {
			if d.Pod.UID == uid {
				found = append(found, d)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if found = latest(found); len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
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
