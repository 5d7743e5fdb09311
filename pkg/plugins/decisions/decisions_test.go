package decisions

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/decision"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    decision.Config
		wantErr []string
	}{
		{name: "none: defaults", want: decision.Config{TopNodes: 5, Retention: 24 * time.Hour, MaxRecords: 20000, QueueSize: 5000}},
		{name: "all set", raw: `{"topNodes": 10, "retention": "2h", "maxRecords": 7, "queueSize": 3}`,
			want: decision.Config{TopNodes: 10, Retention: 2 * time.Hour, MaxRecords: 7, QueueSize: 3}},
		{name: "negative topNodes", raw: `{"topNodes": -1}`, wantErr: []string{"PlacementDecisions", "topNodes", "[1-100]"}},
		{name: "zero topNodes is not off", raw: `{"topNodes": 0}`, wantErr: []string{"topNodes"}},
		{name: "retention of 0", raw: `{"retention": "0s"}`, wantErr: []string{"retention", "at least 1m"}},
		{name: "not a duration", raw: `{"retention": "a day"}`, wantErr: []string{"PlacementDecisions", "retention"}},
		{name: "maxRecords 0", raw: `{"maxRecords": 0}`, wantErr: []string{"maxRecords", "at least 1"}},
		{name: "queueSize negative", raw: `{"queueSize": -5}`, wantErr: []string{"queueSize"}},
		{name: "unknown field", raw: `{"topNode": 3}`, wantErr: []string{"PlacementDecisions", `unknown field "topNode"`}},
		{name: "two mistakes, both named", raw: `{"topNodes": 500, "maxRecords": -1}`, wantErr: []string{"topNodes", "maxRecords"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var obj runtime.Object
			if tc.raw != "" {
				obj = &runtime.Unknown{Raw: []byte(tc.raw), ContentType: runtime.ContentTypeJSON}
			}
			got, err := ParseArgs(obj)
			if len(tc.wantErr) == 0 {
				if err != nil || got != tc.want {
					t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v; want an error naming %v", got, tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestMayHaveBound(t *testing.T) {
	tests := []struct {
		name string
		d    decision.Decision
		want bool
	}{
		{name: "bound", d: decision.Decision{Outcome: decision.Bound, Node: "n1"}, want: true},
		{name: "binding cycle failed after choosing a node", d: decision.Decision{Outcome: decision.Failed, Node: "n1"}, want: true},
		{name: "failed before choosing a node", d: decision.Decision{Outcome: decision.Failed}},
		{name: "unschedulable", d: decision.Decision{Outcome: decision.Unschedulable}},
		{name: "nominated: preemption, not a binding", d: decision.Decision{Outcome: decision.Nominated, Node: "n1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayHaveBound(&tc.d); got != tc.want {
				t.Errorf("mayHaveBound(%s on %q) = %v, want %v", tc.d.Outcome, tc.d.Node, got, tc.want)
			}
		})
	}
}
