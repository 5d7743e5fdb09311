package apiproxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestRecordsBindings binds through the proxy in both encodings a client may
// choose and reads back the pod uid of each, while Keep leaves every other
// request out of the log; a cut proxy answers nothing.
func TestRecordsBindings(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if IsBinding(r) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`))
			return
		}
		_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","items":[]}`))
	}))
	defer upstream.Close()
	p, err := Start(&rest.Config{Host: upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Keep(func(r Request) bool { _, ok := BoundPod(r); return ok })

	ctx := context.Background()
	for _, tc := range []struct{ contentType, uid string }{
		{"application/json", "uid-json"},
		{"application/vnd.kubernetes.protobuf", "uid-protobuf"},
	} {
		cfg := p.Config()
		cfg.ContentType = tc.contentType
		cs := kubernetes.NewForConfigOrDie(cfg)
		binding := &v1.Binding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pod-" + tc.uid, UID: types.UID(tc.uid)}, Target: v1.ObjectReference{Kind: "Node", Name: "node-1"}}
		if err := cs.CoreV1().Pods("ns").Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatalf("binding with %s: %v", tc.contentType, err)
		}
		if _, err := cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatalf("listing with %s: %v", tc.contentType, err)
		}
	}
	got := p.Requests()
	if len(got) != 2 {
		t.Fatalf("kept %d requests, want the 2 bindings: %+v", len(got), got)
	}
	for i, uid := range []string{"uid-json", "uid-protobuf"} {
		if pod, _ := BoundPod(got[i]); got[i].UID != uid || got[i].Status != http.StatusCreated || pod != "ns/pod-"+uid {
			t.Errorf("binding %d = %+v (pod %q), want uid %s answered 201", i, got[i], pod, uid)
		}
	}

	p.Cut()
	cs := kubernetes.NewForConfigOrDie(p.Config())
	// client-go retries a dropped GET; one attempt is enough to see the cut.
	cutCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Pods("ns").List(cutCtx, metav1.ListOptions{}); err == nil {
		t.Error("a cut proxy answered")
	}
	p.Heal()
	if _, err := cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("after Heal: %v", err)
	}
}
