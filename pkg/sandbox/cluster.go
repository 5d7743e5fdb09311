// Package sandbox builds the demo behind `make run`: a small cluster of fake
// nodes over three zones, the example pods from manifests/examples, and a
// report of where each pod landed and why others wait.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kube-placement/placement-scheduler/manifests"
)

// Labels and taints the demo nodes carry; the examples refer to them.
const (
	ZoneLabel     = v1.LabelTopologyZone
	DiskLabel     = "disktype"
	GPULabel      = "gpu"
	DedicatedKey  = "dedicated"
	DedicatedGPU  = "gpu"
	SchedulerName = "placement-scheduler"
)

// Nodes returns the demo cluster: two nodes in each of zone-a, zone-b and
// zone-c; node-b2 has an SSD; node-c2 is a GPU node tainted so that only pods
// tolerating dedicated=gpu go there.
func Nodes() []*v1.Node {
	var nodes []*v1.Node
	for _, zone := range []string{"a", "b", "c"} {
		for i := 1; i <= 2; i++ {
			nodes = append(nodes, newNode(fmt.Sprintf("node-%s%d", zone, i), "zone-"+zone))
		}
	}
	nodes[3].Labels[DiskLabel] = "ssd"
	nodes[5].Labels[GPULabel] = "true"
	nodes[5].Spec.Taints = []v1.Taint{{Key: DedicatedKey, Value: DedicatedGPU, Effect: v1.TaintEffectNoSchedule}}
	return nodes
}

func newNode(name, zone string) *v1.Node {
	capacity := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse("4"),
		v1.ResourceMemory: resource.MustParse("16Gi"),
		v1.ResourcePods:   resource.MustParse("110"),
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{v1.LabelHostname: name, ZoneLabel: zone},
		},
		Status: v1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Conditions:  []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
}

// CreateNodes creates nodes through the API.
func CreateNodes(ctx context.Context, cs kubernetes.Interface, nodes []*v1.Node) error {
	for _, n := range nodes {
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating node %s: %w", n.Name, err)
		}
	}
	return nil
}

// Example is one file of manifests/examples and the pods it holds.
type Example struct {
	File string
	Pods []*v1.Pod
}

// Examples parses manifests/examples, in file-name order.
func Examples() ([]Example, error) {
	files, err := fs.Glob(manifests.Examples, "examples/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Example
	for _, f := range files {
		data, err := manifests.Examples.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pods, err := DecodePods(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, Example{File: path.Base(f), Pods: pods})
	}
	return out, nil
}

// DecodePods reads a multi-document YAML stream of Pods; any other kind is an error.
func DecodePods(data []byte) ([]*v1.Pod, error) {
	reader := utilyaml.NewYAMLReader(bufioReader(data))
	var pods []*v1.Pod
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return pods, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		pod, ok := obj.(*v1.Pod)
		if !ok {
			return nil, fmt.Errorf("expected a Pod, got %T", obj)
		}
		pods = append(pods, pod)
	}
}
