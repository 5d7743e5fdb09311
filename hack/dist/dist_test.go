package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestPackage packages small stand-in binaries and checks what a user and
// krew would check: each archive holds its binary and LICENSE, checksums.txt
// matches the files, and the krew manifest names every plugin archive with
// its real sha256 and download address.
func TestPackage(t *testing.T) {
	bin, out := t.TempDir(), t.TempDir()
	platforms := map[string][]string{
		"placement-scheduler": {"linux_amd64", "linux_arm64"},
		"kubectl-placement":   {"linux_amd64", "darwin_arm64", "windows_amd64"},
	}
	for name, list := range platforms {
		for _, p := range list {
			dir := filepath.Join(bin, name+"_"+p)
			exe := name
			if strings.HasPrefix(p, "windows") {
				exe += ".exe"
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, exe), []byte("binary "+name+" "+p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	license := filepath.Join(t.TempDir(), "LICENSE")
	if err := os.WriteFile(license, []byte("Apache License 2.0"), 0o644); err != nil {
		t.Fatal(err)
	}

	archives, err := Package(Options{Version: "v1.2.3", BinDir: bin, OutDir: out, License: license, DownloadURL: DefaultDownloadURL})
	if err != nil {
		t.Fatal(err)
	}
	if len(archives) != 5 {
		t.Fatalf("%d archives, want 5", len(archives))
	}

	sums := readChecksums(t, filepath.Join(out, "checksums.txt"))
	for _, a := range archives {
		path := filepath.Join(out, a.Name)
		got, err := sha256File(path)
		if err != nil {
			t.Fatal(err)
		}
		if sums[a.Name] != got {
			t.Errorf("checksums.txt says %s for %s, the file hashes to %s", sums[a.Name], a.Name, got)
		}
		want := []string{"LICENSE", a.Binary}
		if a.OS == "windows" {
			want[1] += ".exe"
		}
		sort.Strings(want)
		if names := archiveNames(t, path); strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("%s holds %v, want %v", a.Name, names, want)
		}
	}
	if _, ok := sums["kubectl-placement_v1.2.3_windows_amd64.zip"]; !ok {
		t.Errorf("no zip for Windows in %v", sums)
	}

	raw, err := os.ReadFile(filepath.Join(out, "placement.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m krewPlugin
	if err := yaml.UnmarshalStrict(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Metadata.Name != "placement" || m.Spec.Version != "v1.2.3" || len(m.Spec.Platforms) != 3 {
		t.Fatalf("krew manifest:\n%s", raw)
	}
	for _, p := range m.Spec.Platforms {
		name := filepath.Base(p.URI)
		if p.URI != "https://github.com/kube-placement/placement-scheduler/releases/download/v1.2.3/"+name {
			t.Errorf("uri %s", p.URI)
		}
		if sums[name] == "" || p.SHA256 != sums[name] {
			t.Errorf("%s: manifest sha256 %s, checksums.txt %s", name, p.SHA256, sums[name])
		}
		wantBin := "kubectl-placement"
		if p.Selector.MatchLabels["os"] == "windows" {
			wantBin += ".exe"
		}
		if p.Bin != wantBin || !strings.Contains(name, p.Selector.MatchLabels["os"]+"_"+p.Selector.MatchLabels["arch"]) {
			t.Errorf("platform %+v", p)
		}
	}
}

func TestPackageRejectsBadInput(t *testing.T) {
	license := filepath.Join(t.TempDir(), "LICENSE")
	if err := os.WriteFile(license, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badName := t.TempDir()
	if err := os.MkdirAll(filepath.Join(badName, "kubectl-placement-linux"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "kubectl-placement_linux_amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"no version":       {BinDir: t.TempDir(), OutDir: t.TempDir(), License: license},
		"no binaries":      {Version: "v1", BinDir: t.TempDir(), OutDir: t.TempDir(), License: license},
		"no license":       {Version: "v1", BinDir: t.TempDir(), OutDir: t.TempDir(), License: filepath.Join(t.TempDir(), "nope")},
		"badly named dir":  {Version: "v1", BinDir: badName, OutDir: t.TempDir(), License: license},
		"binary not there": {Version: "v1", BinDir: empty, OutDir: t.TempDir(), License: license},
	} {
		if _, err := Package(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("checksums.txt line %q is not sha256sum's format", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func archiveNames(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, hdr.Name)
		}
	}
	sort.Strings(names)
	return names
}
