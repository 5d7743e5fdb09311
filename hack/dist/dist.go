package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultDownloadURL is where GitHub publishes a release's assets.
const DefaultDownloadURL = "https://github.com/kube-placement/placement-scheduler/releases/download/VERSION"

// pluginBinary is the kubectl plugin, the one binary krew installs.
const pluginBinary = "kubectl-placement"

// Options say what to package and where.
type Options struct {
	Version     string
	BinDir      string
	OutDir      string
	License     string
	DownloadURL string
}

// Archive is one written archive.
type Archive struct {
	Name   string // file name in OutDir
	Binary string // binary name without .exe
	OS     string
	Arch   string
	SHA256 string
}

// Package writes an archive per NAME_OS_ARCH directory of o.BinDir, then
// checksums.txt and, when there are kubectl plugin archives, placement.yaml.
func Package(o Options) ([]Archive, error) {
	if o.Version == "" || o.BinDir == "" || o.OutDir == "" {
		return nil, errors.New("-version, -bin and -out are required")
	}
	license, err := os.ReadFile(o.License)
	if err != nil {
		return nil, fmt.Errorf("reading the license: %w", err)
	}
	dirs, err := os.ReadDir(o.BinDir)
	if err != nil {
		return nil, err
	}
	var archives []Archive
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		a, err := packageDir(o, filepath.Join(o.BinDir, d.Name()), license)
		if err != nil {
			return nil, err
		}
		archives = append(archives, a)
	}
	if len(archives) == 0 {
		return nil, fmt.Errorf("no NAME_OS_ARCH directories in %s", o.BinDir)
	}
	sort.Slice(archives, func(i, j int) bool { return archives[i].Name < archives[j].Name })
	if err := writeChecksums(o.OutDir, archives); err != nil {
		return nil, err
	}
	manifest, err := KrewManifest(o, archives)
	if err != nil {
		return nil, err
	}
	if manifest != nil {
		if err := os.WriteFile(filepath.Join(o.OutDir, "placement.yaml"), manifest, 0o644); err != nil {
			return nil, err
		}
	}
	return archives, nil
}

// packageDir archives the one binary in dir (named NAME_OS_ARCH) with the license.
func packageDir(o Options, dir string, license []byte) (Archive, error) {
	parts := strings.Split(filepath.Base(dir), "_")
	if len(parts) != 3 {
		return Archive{}, fmt.Errorf("%s: want a directory named NAME_OS_ARCH", dir)
	}
	a := Archive{Binary: parts[0], OS: parts[1], Arch: parts[2]}
	exe := a.Binary
	if a.OS == "windows" {
		exe += ".exe"
	}
	bin, err := os.ReadFile(filepath.Join(dir, exe))
	if err != nil {
		return Archive{}, err
	}
	files := []file{{exe, bin, 0o755}, {"LICENSE", license, 0o644}}
	base := fmt.Sprintf("%s_%s_%s_%s", a.Binary, o.Version, a.OS, a.Arch)
	write := writeTarGz
	a.Name = base + ".tar.gz"
	if a.OS == "windows" {
		write, a.Name = writeZip, base+".zip"
	}
	path := filepath.Join(o.OutDir, a.Name)
	if err := write(path, files); err != nil {
		return Archive{}, fmt.Errorf("writing %s: %w", path, err)
	}
	if a.SHA256, err = sha256File(path); err != nil {
		return Archive{}, err
	}
	return a, nil
}

type file struct {
	name string
	data []byte
	mode int64
}

func writeTarGz(path string, files []file) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, fl := range files {
		hdr := &tar.Header{Name: fl.name, Mode: fl.mode, Size: int64(len(fl.data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(fl.data); err != nil {
			return err
		}
	}
	return closeAll(tw, gz, f)
}

func writeZip(path string, files []file) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, fl := range files {
		hdr := &zip.FileHeader{Name: fl.name, Method: zip.Deflate}
		hdr.SetMode(os.FileMode(fl.mode))
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := w.Write(fl.data); err != nil {
			return err
		}
	}
	return closeAll(zw, f)
}

// closeAll closes in order and reports the first error: a failed flush of
// the compressor must not pass for a finished archive.
func closeAll(closers ...io.Closer) error {
	var first error
	for _, c := range closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeChecksums writes checksums.txt as `sha256sum -c` reads it.
func writeChecksums(dir string, archives []Archive) error {
	var b strings.Builder
	for _, a := range archives {
		fmt.Fprintf(&b, "%s  %s\n", a.SHA256, a.Name)
	}
	return os.WriteFile(filepath.Join(dir, "checksums.txt"), []byte(b.String()), 0o644)
}

// krewPlugin is the part of krew's Plugin manifest (v1alpha2) we write.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec krewSpec `json:"spec"`
}

type krewSpec struct {
	Version          string         `json:"version"`
	Homepage         string         `json:"homepage"`
	ShortDescription string         `json:"shortDescription"`
	Description      string         `json:"description"`
	Platforms        []krewPlatform `json:"platforms"`
}

type krewPlatform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	Bin    string `json:"bin"`
}

// KrewManifest is the krew manifest for the kubectl plugin's archives, or
// nil when there are none.
func KrewManifest(o Options, archives []Archive) ([]byte, error) {
	p := krewPlugin{APIVersion: "krew.googlecontainertools.github.com/v1alpha2", Kind: "Plugin"}
	p.Metadata.Name = "placement"
	p.Spec = krewSpec{
		Version:          o.Version,
		Homepage:         "https://github.com/kube-placement/placement-scheduler",
		ShortDescription: "Explain placement-scheduler's decisions: why a pod is pending",
		Description: "Runs placement-scheduler's own profile over a snapshot of the live\n" +
			"cluster and says, per node and per plugin, why a pod is pending or why it\n" +
			"landed where it did. Read-only.\n",
	}
	base := strings.ReplaceAll(o.DownloadURL, "VERSION", o.Version)
	for _, a := range archives {
		if a.Binary != pluginBinary {
			continue
		}
		var pl krewPlatform
		pl.Selector.MatchLabels = map[string]string{"os": a.OS, "arch": a.Arch}
		pl.URI = base + "/" + a.Name
		pl.SHA256 = a.SHA256
		pl.Bin = pluginBinary
		if a.OS == "windows" {
			pl.Bin += ".exe"
		}
		p.Spec.Platforms = append(p.Spec.Platforms, pl)
	}
	if len(p.Spec.Platforms) == 0 {
		return nil, nil
	}
	return yaml.Marshal(p)
}
