package plugintest

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"
)

// LiveCluster is a scheduler cache and the snapshot a framework handle reads,
// for tests of state that plugins keep across cycles: change the cache (and
// the namespace informer) as the scheduler's event handlers would, then call
// Cycle, which refreshes the snapshot as the start of a scheduling cycle does.
type LiveCluster struct {
	Cache      internalcache.Cache
	Snapshot   *internalcache.Snapshot
	Handle     fwk.Handle
	Namespaces cache.Indexer
	Logger     klog.Logger
}

// NewLiveCluster returns an empty cluster.
func NewLiveCluster(tb testing.TB) *LiveCluster {
	tb.Helper()
	metrics.Register()
	// The cache logs every change; in benchmarks that would be the cost.
	logger := logr.Discard()
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	tb.Cleanup(cancel)
	snapshot := internalcache.NewEmptySnapshot()
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	namespaces := factory.Core().V1().Namespaces().Informer().GetIndexer()
	h, err := frameworkruntime.NewFramework(ctx, nil, &config.KubeSchedulerProfile{SchedulerName: "test"},
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithInformerFactory(factory),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return &LiveCluster{
		Cache:      internalcache.New(ctx, nil, false, false),
		Snapshot:   snapshot,
		Handle:     h,
		Namespaces: namespaces,
		Logger:     logger,
	}
}

// SetNamespace adds or replaces a namespace in the informer's store.
func (c *LiveCluster) SetNamespace(tb testing.TB, ns *v1.Namespace) {
	tb.Helper()
	if err := c.Namespaces.Update(ns); err != nil {
		tb.Fatal(err)
	}
}

// Cycle refreshes the snapshot from the cache and returns its nodes.
func (c *LiveCluster) Cycle(tb testing.TB) []fwk.NodeInfo {
	tb.Helper()
	if err := c.Cache.UpdateSnapshot(c.Logger, c.Snapshot); err != nil {
		tb.Fatal(err)
	}
	nodes, err := c.Snapshot.NodeInfos().List()
	if err != nil {
		tb.Fatal(err)
	}
	return nodes
}
