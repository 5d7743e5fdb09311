package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kube-placement/placement-scheduler/internal/render"
)

// repoRoot is where the Makefile is, seen from this package's directory.
const repoRoot = "../.."

// make runs make in the repository and returns its standard output.
func runMake(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "--no-print-directory"}, args...)...)
	cmd.Dir = repoRoot
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestImage builds the image as `make image-oci` does and opens it as a
// runtime would: the entrypoint, a numeric non-root user, the release's
// labels, the binary inside printing the --version `make scheduler`'s
// prints, the tag the chart and kustomize deploy, and the same digest twice.
func TestImage(t *testing.T) {
	abs, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(abs, "image")
	runMake(t, "image-oci", "IMAGE_OUT="+out)
	version, repository, commit := runMake(t, "print-VERSION"), runMake(t, "print-IMAGE"), runMake(t, "print-COMMIT")
	tag := repository + ":" + version

	img := imageFromLayout(t, filepath.Join(out, "oci"), tag)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("config", func(t *testing.T) {
		if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != Entrypoint {
			t.Errorf("entrypoint %q, want [%s]", got, Entrypoint)
		}
		checkNonRoot(t, cf.Config.User)
		if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
			t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
		}
		for label, want := range map[string]string{
			"org.opencontainers.image.version":  version,
			"org.opencontainers.image.revision": commit,
			"org.opencontainers.image.source":   Source,
		} {
			if got := cf.Config.Labels[label]; got != want || want == "" {
				t.Errorf("label %s = %q, want %q", label, got, want)
			}
		}
	})

	t.Run("binary", func(t *testing.T) {
		inside := extract(t, img, Entrypoint, filepath.Join(abs, "from-image"))
		ref := filepath.Join(abs, "ref")
		runMake(t, "scheduler", "BIN="+ref)
		got, want := versionOf(t, inside), versionOf(t, filepath.Join(ref, "placement-scheduler"))
		if got != want || !strings.Contains(got, version) {
			t.Errorf("the image's binary prints %q, make scheduler's %q (VERSION %s)", got, want, version)
		}
	})

	t.Run("tarball", func(t *testing.T) {
		tb, err := tarball.ImageFromPath(filepath.Join(out, "placement-scheduler.tar"), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(filepath.Join(out, "placement-scheduler.tar")) })
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != tag {
			t.Errorf("the tarball's tags %+v, want [%s]", m, tag)
		}
		// The tarball carries Docker's manifest format, so compare what
		// the manifests point at: the config and the layers.
		if a, b := configDigest(t, tb), configDigest(t, img); a != b {
			t.Errorf("the tarball's config is %s, the OCI layout's %s", a, b)
		}
		if a, b := layerDigests(t, tb), layerDigests(t, img); a != b {
			t.Errorf("the tarball's layers are %s, the OCI layout's %s", a, b)
		}
	})

	t.Run("deployed tag", func(t *testing.T) {
		stream, err := render.Kustomize(render.ManifestsDir())
		if err != nil {
			t.Fatal(err)
		}
		if got := deploymentImage(t, stream); got != tag {
			t.Errorf("the kustomize base deploys %s, the image is %s", got, tag)
		}
		stream, err = render.Helm(render.ChartDir(), render.Release{Name: "placement-scheduler", Namespace: "placement-scheduler"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := deploymentImage(t, stream); got != tag {
			t.Errorf("the chart deploys %s, the image is %s", got, tag)
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(out, "bin", "placement-scheduler"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := build(spec{binary: data, version: version, commit: commit, arch: runtime.GOARCH})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := digest(t, again), digest(t, img); a != b {
			t.Errorf("the same binary and labels gave %s, then %s", b, a)
		}
	})
}

// imageFromLayout opens the one image of the OCI layout at dir and checks
// it is tagged tag.
func imageFromLayout(t *testing.T, dir, tag string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("the layout holds %d manifests, want 1", len(im.Manifests))
	}
	if got := im.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != tag {
		t.Errorf("the layout names the image %q, want %q", got, tag)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkNonRoot: USER is numeric uid:gid, neither of them 0, as a pod's
// runAsNonRoot can only verify a numeric user.
func checkNonRoot(t *testing.T, user string) {
	t.Helper()
	uid, gid, ok := strings.Cut(user, ":")
	u, errU := strconv.Atoi(uid)
	g, errG := strconv.Atoi(gid)
	if !ok || errU != nil || errG != nil || u == 0 || g == 0 {
		t.Errorf("user %q, want a numeric non-root uid:gid", user)
	}
}

// extract writes file path of img's filesystem to dst, executable.
func extract(t *testing.T, img v1.Image, path, dst string) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s is not in the image", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if "/"+strings.TrimPrefix(h.Name, "/") != path {
			continue
		}
		if h.Mode&0o111 == 0 || h.Uid != 0 {
			t.Errorf("%s: mode %o, owner %d; want executable, owned by root (not writable by the user)", path, h.Mode, h.Uid)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return dst
	}
}

func versionOf(t *testing.T, binary string) string {
	t.Helper()
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", binary, err)
	}
	return strings.TrimSpace(string(out))
}

func digest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func configDigest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// layerDigests lists the uncompressed layers' digests.
func layerDigests(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.String())
	}
	return strings.Join(out, ",")
}

// deploymentImage is the image of the first container of the one Deployment
// in a rendered stream.
func deploymentImage(t *testing.T, stream []byte) string {
	t.Helper()
	objs, err := render.Objects(stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(containers) == 0 {
			t.Fatal("the Deployment has no containers")
		}
		image, _ := containers[0].(map[string]any)["image"].(string)
		return image
	}
	t.Fatal("no Deployment rendered")
	return ""
}
