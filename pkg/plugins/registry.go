// Package plugins is the registry of placement-scheduler's scheduling plugins.
// Each plugin lives in its own package below this one.
package plugins

import (
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/decisions"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

// Registry returns a new out-of-tree registry with every plugin of ours. The
// names differ from the in-tree plugins', so both can sit in one binary.
func Registry() frameworkruntime.Registry {
	return frameworkruntime.Registry{
		nodename.Name:        nodename.New,
		nodeselector.Name:    nodeselector.New,
		nodeaffinity.Name:    nodeaffinity.New,
		podaffinity.Name:     podaffinity.New,
		tainttoleration.Name: tainttoleration.New,
		decisions.Name:       decisions.New,
	}
}
