package decision

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestTopScoresJSON(t *testing.T) {
	two := []PluginScore{{Plugin: "NodeResourcesFit", Score: 100}, {Plugin: "ImageLocality", Score: 42}}
	tests := []struct {
		name   string
		scores TopScores
		want   string
	}{
		{
			name:   "shared plugins",
			scores: TopScores{{Node: "a", Total: 142, Plugins: two}, {Node: "b", Total: 100, Plugins: []PluginScore{{Plugin: "NodeResourcesFit", Score: 100}, {Plugin: "ImageLocality", Score: 0}}}},
			want:   `{"plugins":["NodeResourcesFit","ImageLocality"],"nodes":[{"node":"a","total":142,"scores":[100,42]},{"node":"b","total":100,"scores":[100,0]}]}`,
		},
		{
			name:   "a node with plugins of its own",
			scores: TopScores{{Node: "a", Total: 142, Plugins: two}, {Node: "b", Total: 7, Plugins: []PluginScore{{Plugin: "TaintToleration", Score: 7}}}},
			want:   `{"plugins":["NodeResourcesFit","ImageLocality"],"nodes":[{"node":"a","total":142,"scores":[100,42]},{"node":"b","total":7,"scores":[7],"plugins":["TaintToleration"]}]}`,
		},
		{
			name:   "no plugins",
			scores: TopScores{{Node: "a"}, {Node: "b"}},
			want:   `{"plugins":[],"nodes":[{"node":"a","total":0,"scores":[]},{"node":"b","total":0,"scores":[]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.scores)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tt.want {
				t.Fatalf("got  %s\nwant %s", raw, tt.want)
			}
			var back TopScores
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.scores, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTopScoresLegacy: records written before the compact encoding, a list
// of {node, total, plugins: [{plugin, score}]}, are read as they were.
func TestTopScoresLegacy(t *testing.T) {
	var got TopScores
	if err := json.Unmarshal([]byte(`[{"node":"a","total":3,"plugins":[{"plugin":"TaintToleration","score":3}]}]`), &got); err != nil {
		t.Fatal(err)
	}
	want := TopScores{{Node: "a", Total: 3, Plugins: []PluginScore{{Plugin: "TaintToleration", Score: 3}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTopScoresBadJSON(t *testing.T) {
	var got TopScores
	err := json.Unmarshal([]byte(`{"plugins":["A","B"],"nodes":[{"node":"a","total":1,"scores":[1]}]}`), &got)
	if err == nil || !strings.Contains(err.Error(), "scores.nodes[0]: 1 scores for 2 plugins") {
		t.Fatalf("got %v, want an error naming scores.nodes[0]", err)
	}
}

// TestTopScoresUnstructured: the dynamic client's conversions, which the
// readers use, go through the same encoding.
func TestTopScoresUnstructured(t *testing.T) {
	d := &Decision{Pod: PodReference{Name: "p", UID: "u"}, Outcome: Bound, Node: "a",
		Scores: TopScores{{Node: "a", Total: 5, Plugins: []PluginScore{{Plugin: "X", Score: 5}}}, {Node: "b", Total: 4, Plugins: []PluginScore{{Plugin: "X", Score: 4}}}}}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		t.Fatal(err)
	}
	plugins, _, _ := unstructured.NestedStringSlice(obj, "scores", "plugins")
	if diff := cmp.Diff([]string{"X"}, plugins); diff != "" {
		t.Fatalf("scores.plugins in the object (-want +got):\n%s", diff)
	}
	back, err := FromUnstructured(&unstructured.Unstructured{Object: obj})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d.Scores, back.Scores); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
