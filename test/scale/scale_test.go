package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScaleSmall runs the harness on a small cluster with the binary built
// from this tree: every command succeeds, is measured, and drift finds the
// pods on the nodes breakRules tainted.
func TestScaleSmall(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "kubectl-placement")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/kubectl-placement")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-placement: %v\n%s", err, out)
	}
	o := options{binary: binary, nodes: 20, podsPerNode: 3, rounds: 1, out: filepath.Join(dir, "out")}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := measure(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.rows) != len(commands(newShape(o), o.out)) {
		t.Fatalf("%d rows, want one per command", len(r.rows))
	}
	for _, row := range r.rows {
		if len(row.samples) != 1 || row.samples[0].wall <= 0 || row.samples[0].cpu <= 0 || row.samples[0].maxRSS <= 0 {
			t.Errorf("%s: samples %+v, want one with wall time, CPU time and memory", row.command.name, row.samples)
		}
	}
	i := slices.IndexFunc(r.rows, func(r row) bool { return r.command.name == "drift -A" })
	drift, err := os.ReadFile(filepath.Join(o.out, fmt.Sprintf("command-%02d.txt", i)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(drift), "maintenance") || !strings.Contains(string(drift), nodeName(10)) {
		t.Errorf("drift -A printed:\n%s\nwant the pods on the tainted %s", drift, nodeName(10))
	}
	if md := r.markdown(); !strings.Contains(md, "| `drift` — drift -A | 1 |") {
		t.Errorf("report lacks the drift row:\n%s", md)
	}
}
