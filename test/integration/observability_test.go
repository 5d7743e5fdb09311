package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/render"
	"github.com/kube-placement/placement-scheduler/pkg/decision"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
)

// TestSchedulerBinary builds the binary as `make` does and runs it as an
// operator would, with JSON logs and leader election on the deployable
// configuration: --version names the release in VERSION and the Kubernetes
// release in go.mod; every log line is JSON; and /metrics on the secure port
// carries upstream's client-go, leader-election and build-info metrics
// besides our plugins' execution times.
func TestSchedulerBinary(t *testing.T) {
	root := filepath.Join(render.ManifestsDir(), "..")
	bin := t.TempDir()
	if out, err := exec.Command("make", "-C", root, "--no-print-directory", "scheduler", "BIN="+bin).CombinedOutput(); err != nil {
		t.Fatalf("make scheduler: %v\n%s", err, out)
	}
	scheduler := filepath.Join(bin, "placement-scheduler")

	release, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	kube, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes").Output()
	if err != nil {
		t.Fatal(err)
	}
	k8s := strings.TrimSpace(string(kube))
	out, err := exec.Command(scheduler, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v := string(out); !strings.HasPrefix(v, "placement-scheduler "+strings.TrimSpace(string(release))+" ") || !strings.Contains(v, "Kubernetes "+k8s) {
		t.Errorf("--version printed %q; want VERSION's release and go.mod's Kubernetes %s", v, k8s)
	}

	e := newEnv(t)
	if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: deployNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	config, err := localscheduler.WriteConfig(t.TempDir(), nil, e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	var logs syncBuffer
	cmd := exec.CommandContext(e.ctx, scheduler,
		"--config="+config,
		"--logging-format=json",
		"--v=2",
		fmt.Sprintf("--secure-port=%d", port),
		"--bind-address=127.0.0.1",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Error("the scheduler did not stop within 30s of SIGTERM")
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	defer stop()

	e.createNodes(fixtures.Nodes()...)
	e.expectLeaseHeld(deployNamespace, "placement-scheduler")
	// Plugin timings are sampled in one cycle of ten; 100 pods make a cycle
	// without a sample vanishingly unlikely to repeat 100 times.
	for i := 0; i < 100; i++ {
		e.createPod(pausePod(fmt.Sprintf("metrics-%03d", i)).Obj())
	}
	e.waitBoundCount(100, time.Minute)

	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	for _, path := range []string{"/healthz", "/livez", "/readyz"} {
		if body := scrape(t, base+path); strings.TrimSpace(body) != "ok" {
			t.Errorf("%s = %q, want ok", path, body)
		}
	}
	var want []string
	for name := range plugins.Registry() {
		point := "PreFilter"
		if name == decisions.Name {
			point = "PostBind" // its one extension point
		}
		want = append(want, fmt.Sprintf(`scheduler_plugin_execution_duration_seconds_count{extension_point=%q,plugin=%q`, point, name))
	}
	want = append(want,
		"\nrest_client_requests_total{",
		"\nleader_election_master_status{",
		"\nkubernetes_build_info{",
		fmt.Sprintf(`git_version=%q`, k8s),
		// PlacementPodAffinity's index, whose bounds docs/design.md gives.
		"\nplacement_podaffinity_index_views ",
		"\nplacement_podaffinity_index_entries ",
		// The decision records the binary writes.
		"\nplacement_decision_records_written_total{profile=\"placement-scheduler\"}",
	)
	var metrics string
	missing := want
	_ = wait.PollUntilContextTimeout(e.ctx, 500*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		metrics = scrape(t, base+"/metrics")
		missing = nil
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0, nil
	})
	for _, m := range missing {
		t.Errorf("/metrics has no %s", strings.TrimSpace(m))
	}
	if !leading(metrics) {
		t.Errorf("leader_election_master_status does not say the scheduler leads:\n%s", grepLines(metrics, "leader_election_master_status"))
	}

	stop()
	checkJSONLogs(t, logs.Bytes())
	// Stopped by SIGTERM, the binary wrote every record first.
	dyn, err := dynamic.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	records, err := decision.List(e.ctx, dyn, decision.ListOptions{Namespace: metav1.NamespaceDefault})
	if err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, d := range records.Items {
		if d.Outcome == decision.Bound && d.Node != "" {
			bound++
		}
	}
	if bound != 100 {
		t.Errorf("%d Bound records after the binary stopped; want one per pod, 100", bound)
	}
}

// leading reports whether the leader-election gauge is 1.
func leading(metrics string) bool {
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "leader_election_master_status{") && strings.HasSuffix(line, " 1") {
			return true
		}
	}
	return false
}

func grepLines(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// checkJSONLogs wants every line to be a JSON log entry, and among them the
// binding of a pod with its structured keys.
func checkJSONLogs(t *testing.T, logs []byte) {
	t.Helper()
	lines, bound := 0, false
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		lines++
		var entry map[string]any
		if err := json.Unmarshal(line, &entry); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if _, ok := entry["msg"]; !ok {
			t.Errorf("JSON log line without msg: %s", line)
		}
		if entry["msg"] == "Successfully bound pod to node" && entry["node"] != nil {
			if pod, _ := entry["pod"].(map[string]any); pod["namespace"] == "default" {
				bound = true
			}
		}
	}
	if lines < 10 {
		t.Errorf("only %d log lines", lines)
	}
	if !bound {
		t.Errorf("no JSON entry for a bound pod with pod and node keys among %d lines", lines)
	}
}

// syncBuffer collects a process's output written from two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
