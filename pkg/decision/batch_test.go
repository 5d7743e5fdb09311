package decision

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// TestBatchRoundTrip: records packed into a batch, stored as the API server
// stores it (JSON, through unstructured), read back equal, with the kind,
// namespace and profile the batch gives them; collection sees the count and
// newest time without unpacking.
func TestBatchRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 123456000, time.UTC)
	var ds []*Decision
	for i, at := range []time.Time{t0.Add(time.Second), t0.Add(3 * time.Second), t0} {
		ds = append(ds, &Decision{
			TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: Kind},
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "uid-" + string(rune('a'+i)), Labels: map[string]string{"app": "web"}},
			Pod:        PodReference{Name: "pod-" + string(rune('a'+i)), UID: "uid-" + string(rune('a'+i)), Generation: 1},
			Profile:    "p", Time: metav1.NewMicroTime(at), Attempts: 1, Outcome: Bound, Node: "n1",
			Nodes:      NodeCounts{Total: 5000, Evaluated: 500, Feasible: 400},
			Rejections: []Rejection{{Plugin: "PlacementTaintToleration", Reason: "untolerated taint", Nodes: 100, Examples: []string{"n9"}}},
			Scores:     TopScores{{Node: "n1", Total: 300, Plugins: []PluginScore{{Plugin: "A", Score: 200}, {Plugin: "B", Score: 100}}}, {Node: "n2", Total: 250, Plugins: []PluginScore{{Plugin: "A", Score: 150}, {Plugin: "B", Score: 100}}}},
			Margin:     ptr.To[int64](50),
		})
	}
	b, err := packBatch("ns", "p", ds)
	if err != nil {
		t.Fatal(err)
	}
	b.Name = "batch-x"
	u := storedAsJSON(t, b)
	if _, found, _ := unstructured.NestedSlice(u.Object, "decisions"); found {
		t.Errorf("a packed batch also stores its records unpacked")
	}

	header, err := batchHeader(u)
	if err != nil {
		t.Fatal(err)
	}
	want := Stored{Namespace: "ns", Name: "batch-x", Batch: true, Records: 3, Newest: t0.Add(3 * time.Second)}
	if got := header.stored(); !got.Newest.Equal(want.Newest) || got.Records != want.Records || got.Name != want.Name || got.Namespace != want.Namespace || !got.Batch {
		t.Errorf("stored() = %+v, want %+v", got, want)
	}

	read, err := BatchFromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Decisions) != len(ds) {
		t.Fatalf("read %d records, want %d", len(read.Decisions), len(ds))
	}
	for i, d := range ds {
		got := read.Decisions[i]
		if diff := cmp.Diff(*d, got, cmp.Comparer(func(a, b metav1.MicroTime) bool { return a.Equal(&b) })); diff != "" {
			t.Errorf("record %d differs (-written +read):\n%s", i, diff)
		}
	}
}

// TestBatchUnpackRefuses: what is not a batch of records, or unpacks into
// more than maxUnpacked bytes, is an error naming the batch and its field,
// not a panic nor an allocation without end.
func TestBatchUnpackRefuses(t *testing.T) {
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name   string
		packed []byte
		want   string
	}{
		{"not gzip", []byte("{}"), "packed"},
		{"not JSON", gz([]byte("records")), "packed"},
		{"not a list", gz([]byte(`{"pod": {}}`)), "packed"},
		{"truncated", gz([]byte(`[{"pod": {"name": "a"}}]`))[:20], "packed"},
		{"too large unpacked", gz(bytes.Repeat([]byte(" "), maxUnpacked+10)), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &DecisionBatch{
				TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: BatchKind},
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "batch-x"}, Profile: "p", Count: 1, Packed: tc.packed,
			}
			_, err := BatchFromUnstructured(storedAsJSON(t, b))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ns/batch-x") {
				t.Errorf("err = %v, want one naming ns/batch-x and saying %q", err, tc.want)
			}
		})
	}
}

// storedAsJSON is obj as the writer sends it (JSON) and a dynamic client
// reads it back (unstructured).
func storedAsJSON(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return u
}
