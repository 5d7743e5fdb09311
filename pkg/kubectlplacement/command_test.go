package kubectlplacement

import (
	"bytes"
	"strings"
	"testing"

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
