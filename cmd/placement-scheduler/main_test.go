package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kube-placement/placement-scheduler/pkg/version"
)

func TestVersionFlag(t *testing.T) {
	cmd := newCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "placement-scheduler "+version.Version) {
		t.Errorf("--version printed %q, want our version first", got)
	}
	if k := version.Kubernetes(); !strings.Contains(got, "Kubernetes "+k) || !strings.HasPrefix(k, "v1.") {
		t.Errorf("--version printed %q, want the Kubernetes module version (%s)", got, k)
	}
}
