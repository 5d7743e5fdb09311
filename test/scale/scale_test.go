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

// TestScaleSmall runs the harness on a small cluster with the binaries
// built from this tree: every command succeeds, is measured, and drift
// finds the pods on the nodes breakRules tainted; the scheduler binds the
// new pods with recording on and off, writes their records only when on,
// and its heap is read.
func TestScaleSmall(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "kubectl-placement")
	scheduler := filepath.Join(dir, "placement-scheduler")
	for out, pkg := range map[string]string{binary: "../../cmd/kubectl-placement", scheduler: "../../cmd/placement-scheduler"} {
		if got, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, got)
		}
	}
	o := options{binary: binary, scheduler: scheduler, commands: true, nodes: 20, podsPerNode: 3, rounds: 1, out: filepath.Join(dir, "out")}
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

	if len(r.heap) != 2 || r.heap[0].recording == r.heap[1].recording {
		t.Fatalf("scheduler runs %+v, want one with recording and one without", r.heap)
	}
	for _, h := range r.heap {
		if h.heapLive <= 0 || h.heapInuse <= 0 || h.rss <= 0 {
			t.Errorf("recording %v: heap %d live, %d in use, %d resident; want each read", h.recording, h.heapLive, h.heapInuse, h.rss)
		}
		if want := int64(newShape(o).newPods() + pendingPods); h.recording && h.written < want {
			t.Errorf("recording on: %d records written, want at least %d", h.written, want)
		}
		if !h.recording && h.written > 0 {
			t.Errorf("recording off: %d records written, want none", h.written)
		}
	}
	if md := r.markdown(); !strings.Contains(md, "| on | 1 |") || !strings.Contains(md, "| off | 1 |") {
		t.Errorf("report lacks the heap rows:\n%s", md)
	}
}
