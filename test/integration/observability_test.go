package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kube-placement/placement-scheduler/pkg/localscheduler"
	"github.com/kube-placement/placement-scheduler/pkg/plugins"
	"github.com/kube-placement/placement-scheduler/pkg/sandbox"
)

// TestMetricsNameOurPlugins scrapes the secure port, as Prometheus would, and
// finds our plugins' execution times under their own names.
func TestMetricsNameOurPlugins(t *testing.T) {
	e := newEnv(t)
	port := freePort(t)
	e.startScheduler(localscheduler.Options{Flags: []string{
		fmt.Sprintf("--secure-port=%d", port),
		"--bind-address=127.0.0.1",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
	}})
	e.createNodes(sandbox.Nodes()...)
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
	var metrics string
	err := wait.PollUntilContextTimeout(e.ctx, 500*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		metrics = scrape(t, base+"/metrics")
		for name := range plugins.Registry() {
			if !strings.Contains(metrics, fmt.Sprintf(`scheduler_plugin_execution_duration_seconds_count{extension_point="PreFilter",plugin=%q`, name)) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		for name := range plugins.Registry() {
			if !strings.Contains(metrics, fmt.Sprintf("plugin=%q", name)) {
				t.Errorf("/metrics has no scheduler_plugin_execution_duration_seconds for %s", name)
			}
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	// The scheduler serves a self-signed certificate.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
