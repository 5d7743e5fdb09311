package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/kube-placement/placement-scheduler/pkg/version"
)

// TestFlagsMatchUpstream: the command is built here, not taken from
// upstream; every flag of upstream's kube-scheduler command must still be
// there, with the same default, and no other.
func TestFlagsMatchUpstream(t *testing.T) {
	flags := func(fs *pflag.FlagSet) map[string]string {
		out := map[string]string{}
		fs.VisitAll(func(f *pflag.Flag) { out[f.Name] = f.DefValue })
		return out
	}
	ours, upstream := flags(newCommand().Flags()), flags(app.NewSchedulerCommand().Flags())
	if len(upstream) < 50 {
		t.Fatalf("upstream's command has %d flags; the test no longer reads the right command", len(upstream))
	}
	for name, def := range upstream {
		if got, ok := ours[name]; !ok {
			t.Errorf("flag --%s of upstream's kube-scheduler is missing", name)
		} else if got != def {
			t.Errorf("flag --%s defaults to %q; upstream's to %q", name, got, def)
		}
	}
	for name := range ours {
		if _, ok := upstream[name]; !ok {
			t.Errorf("flag --%s is ours only", name)
		}
	}
}

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

// TestRegistrationsMatchUpstream: upstream's kube-scheduler main registers
// log formats and metrics through blank imports; ours must carry every one
// of them, or an upgrade could silently drop --logging-format=json or a
// metric operators' dashboards rely on.
func TestRegistrationsMatchUpstream(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "k8s.io/kubernetes/cmd/kube-scheduler").Output()
	if err != nil {
		t.Fatalf("locating upstream's kube-scheduler main: %v", err)
	}
	upstream := blankImports(t, strings.TrimSpace(string(out)))
	if len(upstream) == 0 {
		t.Fatal("found no blank imports in upstream's kube-scheduler main; the test no longer reads the right files")
	}
	ours := blankImports(t, ".")
	for path := range upstream {
		if !ours[path] {
			t.Errorf("upstream's kube-scheduler main imports _ %q; ours does not", path)
		}
	}
}

// blankImports returns the blank imports of the non-test Go files in dir.
func blankImports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if imp.Name != nil && imp.Name.Name == "_" {
				path, _ := strconv.Unquote(imp.Path.Value)
				imports[path] = true
			}
		}
	}
	return imports
}
