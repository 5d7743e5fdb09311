package explain_test

import (
	"context"
	"encoding/json"
	"flag"
	"reflect"
	"sort"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// demo is the sandbox's cluster with the given example pods, bound where
// the map says (pods absent from the map are pending).
func demo(t testing.TB, bound map[string]string) (*fake.Clientset, map[string]*v1.Pod) {
	t.Helper()
	examples, err := fixtures.Examples()
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for _, n := range fixtures.Nodes() {
		objs = append(objs, n)
	}
	pods := map[string]*v1.Pod{}
	for _, ex := range examples {
		for _, p := range ex.Pods {
			p.Namespace = "default"
			p.UID = types.UID("uid-" + p.Name)
			pods[p.Name] = p
			if node, ok := bound[p.Name]; ok {
				p.Spec.NodeName = node
				objs = append(objs, p)
			}
		}
	}
	return fake.NewClientset(objs...), pods
}

func testOptions(t testing.TB, cs *fake.Clientset) explain.Options {
	t.Helper()
	cfg, err := explain.ParseConfig(manifests.SchedulerConfig)
	if err != nil {
		t.Fatal(err)
	}
	// A dynamic client too, as kubectl-placement passes one: plugins that
	// watch namespaces get their informers from it.
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{{Version: "v1", Resource: "namespaces"}: "NamespaceList"})
	return explain.Options{Client: cs, Dynamic: dyn, Config: cfg}
}

// TestExplainGolden pins the answers as data (JSON); pkg/kubectlplacement's
// TestPrintGolden prints these same files in every output format.
func TestExplainGolden(t *testing.T) {
	placed := map[string]string{"spread-1": "node-a1", "spread-2": "node-b2", "cache": "node-b1", "prefers-zone-a": "node-a2"}
	tests := []struct{ name, pod string }{
		{name: "pending-untolerated", pod: "gpu-job-untolerated"},
		{name: "anti-affinity", pod: "spread-3"},
		{name: "affinity", pod: "web"},
		{name: "bound", pod: "prefers-zone-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, pods := demo(t, placed)
			pod := pods[tc.pod]
			e, err := explain.Explain(context.Background(), testOptions(t, cs), pod)
			if err != nil {
				t.Fatal(err)
			}
			fixtures.Golden(t, tc.name+".json", answerJSON(t, e), *update)
		})
	}
}

// answerJSON is an answer as `-o json` prints it.
func answerJSON(t *testing.T, obj any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(obj, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestExplainProfile(t *testing.T) {
	cs, pods := demo(t, nil)
	pod := pods["web"].DeepCopy()
	pod.Spec.SchedulerName = "default-scheduler"
	_, err := explain.Explain(context.Background(), testOptions(t, cs), pod)
	if err == nil || !strings.Contains(err.Error(), `no profile "default-scheduler"`) || !strings.Contains(err.Error(), "placement-scheduler") {
		t.Fatalf("want an error naming the missing and the available profiles, got %v", err)
	}
	o := testOptions(t, cs)
	o.Profile = fixtures.SchedulerName
	e, err := explain.Explain(context.Background(), o, pod)
	if err != nil {
		t.Fatal(err)
	}
	if e.Profile != fixtures.SchedulerName {
		t.Errorf("profile %q ran, want %q", e.Profile, fixtures.SchedulerName)
	}
}

// TestWatchedMatchesInformers keeps explain.Watched (and so the access check and the
// ClusterRole) equal to the informers the scheduler actually starts.
func TestWatchedMatchesInformers(t *testing.T) {
	cs, _ := demo(t, nil)
	o := testOptions(t, cs)
	types, err := explain.StartedInformers(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[explain.Resource]bool{}
	for _, typ := range types {
		obj := reflect.New(typ.Elem()).Interface().(runtime.Object)
		kinds, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		plural, _ := meta.UnsafeGuessKindToResource(kinds[0])
		got[explain.Resource{Group: plural.Group, Resource: plural.Resource}] = true
	}
	want := map[explain.Resource]bool{}
	for _, r := range explain.Watched {
		want[r] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("informers started: %v\nWatched: %v", keys(got), keys(want))
	}
}

func keys(m map[explain.Resource]bool) []string {
	var out []string
	for r := range m {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}
