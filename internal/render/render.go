// Package render turns the deployable manifests — the kustomize base and the
// Helm chart under manifests/ — into Kubernetes objects with kustomize's and
// helm's own Go libraries, as `kubectl kustomize` and `helm template` would,
// so that tests need no kubectl or helm binary.
package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ManifestsDir is the repository's manifests/ directory (found from this
// file's location, so tests must not be built with -trimpath).
func ManifestsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "manifests")
}

// ChartDir is the Helm chart's directory.
func ChartDir() string {
	return filepath.Join(ManifestsDir(), "charts", "placement-scheduler")
}

// Kustomize builds the kustomization in dir and returns it as a YAML stream.
func Kustomize(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return res.AsYaml()
}

// Release names the Helm release a chart is rendered for.
type Release struct {
	Name      string
	Namespace string
}

// Helm renders the chart in dir with the given values over the chart's
// defaults, checking them against values.schema.json, and returns the
// manifests in helm's install order as one YAML stream (NOTES.txt and
// hooks left out).
func Helm(dir string, rel Release, values map[string]any) ([]byte, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	return HelmChart(ch, rel, values)
}

// HelmChart is Helm for a chart already loaded.
func HelmChart(ch *chart.Chart, rel Release, values map[string]any) ([]byte, error) {
	opts := chartutil.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true}
	vals, err := chartutil.ToRenderValues(ch, values, opts, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	_, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	// CRDs first, as `helm install` applies them (and `helm template
	// --include-crds` prints them).
	for _, crd := range ch.CRDObjects() {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", crd.Filename, strings.TrimSpace(string(crd.File.Data)))
	}
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.Name, strings.TrimSpace(m.Content))
	}
	return out.Bytes(), nil
}

// Objects splits a YAML stream into objects, skipping empty documents.
func Objects(stream []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(obj.Object) != 0 {
			objs = append(objs, obj)
		}
	}
}
