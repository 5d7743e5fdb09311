package kubectlplacement

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/version"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	cmd := NewCommand(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(out.String())
	if want := version.String("kubectl-placement"); got != want {
		t.Errorf("version printed %q, want %q", got, want)
	}
	if !strings.HasPrefix(got, "kubectl-placement "+version.Version+" ") || !strings.Contains(got, "Kubernetes "+version.Kubernetes()) {
		t.Errorf("version printed %q, want our version and the Kubernetes version %s", got, version.Kubernetes())
	}
}

// TestKubectlConnectionFlags: the connection flags are kubectl's, and they
// reach the server: --server, --token, --as, -n, --insecure-skip-tls-verify.
func TestKubectlConnectionFlags(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"details":{"name":"web-0","kind":"pods"}}`)
	}))
	defer srv.Close()

	// An empty kubeconfig, so the user's own does not take part.
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := NewCommand(&bytes.Buffer{})
	cmd.SetArgs([]string{"explain", "pod/web-0", "-n", "shop",
		"--server", srv.URL, "--token", "s3cret", "--as", "alice", "--insecure-skip-tls-verify", "--request-timeout", "5s",
		"--kubeconfig", kubeconfig})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "pods shop/web-0 not found") {
		t.Fatalf("err = %v, want the pod named as not found", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("the server saw no request")
	}
	r := seen[0]
	if r.URL.Path != "/api/v1/namespaces/shop/pods/web-0" {
		t.Errorf("path %s", r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("Authorization %q, want the --token", got)
	}
	if got := r.Header.Get("Impersonate-User"); got != "alice" {
		t.Errorf("Impersonate-User %q, want --as", got)
	}
	if !strings.HasPrefix(r.UserAgent(), "kubectl-placement") {
		t.Errorf("User-Agent %q", r.UserAgent())
	}
}

// TestStandardFlagsPresent lists the kubectl flags users reach for.
func TestStandardFlagsPresent(t *testing.T) {
	cmd := NewCommand(&bytes.Buffer{})
	for _, name := range []string{"kubeconfig", "context", "cluster", "user", "namespace", "server", "token", "as", "as-group", "request-timeout", "certificate-authority", "insecure-skip-tls-verify"} {
		if cmd.PersistentFlags().Lookup(name) == nil {
			t.Errorf("no --%s", name)
		}
	}
}

// TestCompletePodNames: `kubectl placement explain <TAB>` offers the pods of
// the namespace that start with what was typed.
func TestCompletePodNames(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/namespaces/shop/pods" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web-0"}},{"metadata":{"name":"web-1"}},{"metadata":{"name":"db-0"}}]}`)
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := NewCommand(&bytes.Buffer{})
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"__complete", "explain", "-n", "shop", "--server", srv.URL, "--insecure-skip-tls-verify", "--kubeconfig", kubeconfig, "we"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(out.String())
	if len(got) < 2 || got[0] != "web-0" || got[1] != "web-1" || strings.Contains(out.String(), "db-0") {
		t.Errorf("completion printed %q, want web-0 and web-1 only", out.String())
	}
}

// TestBadArguments: wrong flags are refused before any request, naming the
// flag.
func TestBadArguments(t *testing.T) {
	// Nothing listens here: an argument error must come first.
	conn := []string{"--server", "https://127.0.0.1:1", "--kubeconfig", filepath.Join(t.TempDir(), "none")}
	notANode := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(notANode, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "-f", "x.yaml", "--replicas", "-1"}, "--replicas -1: must not be negative"},
		{[]string{"simulate", "-f", "x.yaml", "--replicas", "1000000"}, "--replicas 1000000: at most 100000"},
		{[]string{"simulate", "-f", "x.yaml", "-o", "table"}, `--output "table"`},
		{[]string{"capacity", "-f", "x.yaml", "--max", "-5"}, "--max -5: must not be negative"},
		{[]string{"explain"}, "name one pod"},
		{[]string{"explain", "web-0", "--all-pending"}, "name one pod"},
		{[]string{"explain", "web-0", "-A"}, "--all-namespaces goes with --all-pending"},
		{[]string{"explain", "--all-pending", "--profile", "x"}, "drop --profile"},
		{[]string{"simulate", "extra"}, "unknown command"},
		{[]string{"simulate", "-f", "x.yaml", "--add-nodes", "-1", "--like", "n"}, "--add-nodes -1: must not be negative"},
		{[]string{"simulate", "-f", "x.yaml", "--add-nodes", "10001", "--like", "n"}, "--add-nodes 10001: at most 10000"},
		{[]string{"simulate", "-f", "x.yaml", "--add-nodes", "2"}, "--node-template FILE or --like NODE"},
		{[]string{"simulate", "-f", "x.yaml", "--nodes-needed"}, "--node-template FILE or --like NODE"},
		{[]string{"simulate", "-f", "x.yaml", "--nodes-needed", "--add-nodes", "2", "--like", "n"}, "drop --add-nodes"},
		{[]string{"simulate", "-f", "x.yaml", "--nodes-needed", "--like", "n", "--max-nodes", "20000"}, "--max-nodes 20000: at most 10000"},
		{[]string{"simulate", "-f", "x.yaml", "--add-nodes", "1", "--like", "n", "--node-template", notANode}, "pass one"},
		{[]string{"capacity", "-f", "x.yaml", "--add-nodes", "1", "--node-template", notANode}, "is a Pod, not a Node"},
		{[]string{"capacity", "-f", "x.yaml", "--add-nodes", "1", "--node-template", "/nonexistent.yaml"}, "--node-template: open /nonexistent.yaml"},
		{[]string{"drift", "--profile", "x"}, "drop --profile"},
		{[]string{"drift", "-l", "a in ("}, "--selector"},
		{[]string{"drift", "--preferred", "--margin", "-1"}, "--margin -1: must not be negative"},
		{[]string{"drift", "--dry-run=none"}, "go with --evict"},
		{[]string{"drift", "--evict", "--dry-run=true"}, `--dry-run "true": want one of client, server, none`},
		{[]string{"drain"}, "name the nodes to drain"},
		{[]string{"drain", "n1", "-l", "zone=a"}, "not both"},
	}
	for _, tc := range tests {
		cmd := NewCommand(&bytes.Buffer{})
		cmd.SetArgs(append(tc.args, conn...))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestSimulateNeedsFiles: simulate without -f says how to name them.
func TestSimulateNeedsFiles(t *testing.T) {
	cmd := NewCommand(&bytes.Buffer{})
	cmd.SetArgs([]string{"simulate", "--server", "https://127.0.0.1:1", "--kubeconfig", filepath.Join(t.TempDir(), "none")})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "-f FILE") {
		t.Errorf("err = %v, want one naming -f", err)
	}
}

func TestPrintProgress(t *testing.T) {
	tests := []struct {
		report explain.SyncProgress
		want   string
	}{
		{explain.SyncProgress{Elapsed: 2040 * time.Millisecond, Waiting: []string{"*v1.Node", "*v1.Pod"}}, "Listing the cluster (2s): waiting for *v1.Node, *v1.Pod\n"},
		{explain.SyncProgress{Elapsed: 4 * time.Second}, "Listing the cluster (4s): filling the scheduler cache\n"},
		{explain.SyncProgress{Elapsed: 5170 * time.Millisecond, Done: true}, "Listed the cluster in 5.2s.\n"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		printProgress(&out)(tc.report)
		if out.String() != tc.want {
			t.Errorf("%+v printed %q, want %q", tc.report, out.String(), tc.want)
		}
	}
}
