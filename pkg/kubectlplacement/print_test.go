package kubectlplacement

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestPrintGolden prints the answers pkg/explain pins as data
// (../explain/testdata/*.json, from TestExplainGolden and
// TestSimulationGolden) in each output format, and compares the result with
// testdata/NAME.golden.
func TestPrintGolden(t *testing.T) {
	tests := []struct {
		name, answer, format string
		answerType           runtime.Object
		print                PrintOptions
	}{
		{name: "pending-untolerated", answer: "pending-untolerated", format: "text", answerType: &explain.Explanation{}},
		{name: "pending-untolerated-json", answer: "pending-untolerated", format: "json", answerType: &explain.Explanation{}},
		{name: "anti-affinity", answer: "anti-affinity", format: "text", answerType: &explain.Explanation{}},
		{name: "affinity", answer: "affinity", format: "text", answerType: &explain.Explanation{}, print: PrintOptions{Top: 2, NodesPerGroup: 2}},
		{name: "bound", answer: "bound", format: "text", answerType: &explain.Explanation{}},
		{name: "bound-yaml", answer: "bound", format: "yaml", answerType: &explain.Explanation{}},
		{name: "simulate", answer: "simulate", format: "text", answerType: &explain.Simulation{}},
		{name: "preemption", answer: "preemption", format: "text", answerType: &explain.Simulation{}},
		{name: "capacity", answer: "capacity", format: "text", answerType: &explain.CapacityReport{}},
		{name: "capacity-wide", answer: "capacity", format: "wide", answerType: &explain.CapacityReport{}},
		{name: "drift", answer: "drift", format: "text", answerType: &explain.Drift{}},
		{name: "drift-wide", answer: "drift", format: "wide", answerType: &explain.Drift{}},
		{name: "drain", answer: "drain", format: "text", answerType: &explain.DrainPlan{}},
		{name: "drain-wide", answer: "drain", format: "wide", answerType: &explain.DrainPlan{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "explain", "testdata", tc.answer+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, tc.answerType); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Print(&out, tc.answerType, tc.format, tc.print); err != nil {
				t.Fatal(err)
			}
			fixtures.Golden(t, tc.name+".golden", out.Bytes(), *update)
		})
	}
}
