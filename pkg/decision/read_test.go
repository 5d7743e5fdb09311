package decision

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

// TestReadMergesBatches: List and Get read the pods' own records and the
// batched ones alike, packed or as earlier releases stored them, select batched ones by the pod's labels and name as
// the API server selects own ones, and keep one record per pod, the newest
// (an own record left by an earlier scheduler and a batched one of the
// pod's binding).
func TestReadMergesBatches(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	rec := func(ns, uid, pod string, o Outcome, at time.Time, app string) Decision {
		return Decision{
			TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uid, Labels: map[string]string{"app": app}},
			Pod:        PodReference{Name: pod, UID: uid}, Profile: "p", Outcome: o, Time: metav1.NewMicroTime(at), Attempts: 1,
		}
	}
	toU := func(obj any) runtime.Object {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		return &unstructured.Unstructured{Object: m}
	}
	// A batch as the writer stores it: its records packed, without kind,
	// namespace and profile, which readers take from the batch.
	batch := func(ns, name string, ds ...Decision) runtime.Object {
		ptrs := make([]*Decision, len(ds))
		for i := range ds {
			ptrs[i] = &ds[i]
		}
		b, err := packBatch(ns, "p", ptrs)
		if err != nil {
			t.Fatal(err)
		}
		b.Name = name
		return toU(b)
	}
	// A batch as releases before packing stored it.
	unpacked := func(ns, name string, ds ...Decision) runtime.Object {
		stored := make([]Decision, len(ds))
		for i := range ds {
			stored[i] = inBatch(&ds[i])
		}
		return toU(&DecisionBatch{
			TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: BatchKind},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Profile: "p", Decisions: stored,
		})
	}
	stale := rec("ns1", "uid-a", "a", Unschedulable, t0.Add(time.Minute), "web")
	objs := []runtime.Object{
		toU(&stale),
		batch("ns1", "batch-1", rec("ns1", "uid-b", "b", Bound, t0.Add(2*time.Minute), "web"),
			rec("ns1", "uid-c", "c", Bound, t0.Add(3*time.Minute), "db")),
		batch("ns1", "batch-2", rec("ns1", "uid-a", "a", Bound, t0.Add(4*time.Minute), "web")),
		unpacked("ns2", "batch-3", rec("ns2", "uid-d", "d", Bound, t0.Add(5*time.Minute), "web")),
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		GroupVersionResource: Kind + "List", BatchGroupVersionResource: BatchKind + "List",
	})
	ctx := context.Background()
	// Created through the client: the fake's tracker would guess the
	// batches' resource name from their kind wrongly.
	for _, obj := range objs {
		u := obj.(*unstructured.Unstructured)
		gvr := GroupVersionResource
		if u.GetKind() == BatchKind {
			gvr = BatchGroupVersionResource
		}
		if _, err := client.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(l *DecisionList) []string {
		var out []string
		for _, d := range l.Items {
			if d.Kind != Kind || d.Profile != "p" {
				t.Errorf("record of %s: kind %q, profile %q; want %q, %q", d.Pod.Name, d.Kind, d.Profile, Kind, "p")
			}
			out = append(out, d.Namespace+"/"+d.Pod.Name+":"+string(d.Outcome))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		o    ListOptions
		want []string
	}{
		{"namespace", ListOptions{Namespace: "ns1"}, []string{"ns1/a:Bound", "ns1/c:Bound", "ns1/b:Bound"}},
		{"every namespace", ListOptions{}, []string{"ns2/d:Bound", "ns1/a:Bound", "ns1/c:Bound", "ns1/b:Bound"}},
		{"selector", ListOptions{Namespace: "ns1", Selector: "app=web"}, []string{"ns1/a:Bound", "ns1/b:Bound"}},
		{"since", ListOptions{Since: 3 * time.Minute, Now: t0.Add(6 * time.Minute)}, []string{"ns2/d:Bound", "ns1/a:Bound", "ns1/c:Bound"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := List(ctx, client, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(l); !slices.Equal(got, tc.want) {
				t.Errorf("List = %v, want %v", got, tc.want)
			}
		})
	}
	for uid, want := range map[string]string{"uid-a": "Bound", "uid-b": "Bound", "uid-x": ""} {
		d, err := Get(ctx, client, "ns1", uid)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if d != nil {
			got = string(d.Outcome)
		}
		if got != want {
			t.Errorf("Get(%s) = %q, want %q", uid, got, want)
		}
	}
}
