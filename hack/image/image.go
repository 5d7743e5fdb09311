// Command image assembles placement-scheduler's container image without a
// container daemon: the static binary `make image-oci` builds (with the
// flags the Dockerfile's `make scheduler` uses) on an empty base, run as a
// numeric non-root user, with the OCI labels of the release. It writes the
// image as an OCI image layout and as a tarball `docker load` reads.
//
// The base is empty rather than distroless because no registry is reachable
// where this runs: the binary is static and the manifests give it a
// read-only root filesystem, so it needs nothing else but the users' names
// and a /tmp, which the layer carries.
package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the image puts the binary, and who runs it: distroless's nonroot
// user, as in the Dockerfile.
const (
	Entrypoint = "/usr/local/bin/placement-scheduler"
	User       = "65532:65532"
	// Source is the repository the labels name.
	Source = "https://github.com/kube-placement/placement-scheduler"
)

// spec is what one image is made of.
type spec struct {
	// binary is the static placement-scheduler to put in the image.
	binary []byte
	// version and commit are the release and the commit it was built from.
	version, commit string
	// arch is the binary's GOARCH.
	arch string
}

// epoch dates every file and the image itself, so that the same binary and
// labels always give the same digest.
var epoch = time.Unix(0, 0).UTC()

// build assembles the image.
func build(s spec) (v1.Image, error) {
	files, err := rootFS(s.binary)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making the layer: %w", err)
	}
	// OCI media types throughout, as the OCI layout expects.
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", s.arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = []string{Entrypoint}
	cf.Config.User = User
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    "placement-scheduler",
		"org.opencontainers.image.version":  s.version,
		"org.opencontainers.image.revision": s.commit,
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	return mutate.ConfigFile(img, cf)
}

// rootFS is the layer's tar: the binary, the nonroot user's entries, /tmp.
func rootFS(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: epoch})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, step := range []func() error{
		func() error { return dir("etc/", 0o755) },
		func() error {
			return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
		},
		func() error { return file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")) },
		func() error { return dir("tmp/", 0o1777) },
		func() error { return dir("usr/", 0o755) },
		func() error { return dir("usr/local/", 0o755) },
		func() error { return dir("usr/local/bin/", 0o755) },
		func() error { return file(Entrypoint[1:], 0o755, binary) },
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("writing the layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// write puts img, tagged ref, into an OCI layout at dir (made anew) and a
// tarball at tarPath.
func write(img v1.Image, ref name.Tag, dir, tarPath string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the OCI layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.Name(),
	})); err != nil {
		return fmt.Errorf("writing the OCI layout: %w", err)
	}
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		return fmt.Errorf("writing the tarball: %w", err)
	}
	return nil
}
