package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/statefulset"

	"github.com/kube-placement/placement-scheduler/internal/apiproxy"
	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/schedulerprocess"
)

// soaker is one soak: the control plane, the controllers and the kubelet
// that make Deployments and StatefulSets real, and the scheduler process.
type soaker struct {
	o       options
	cluster *localcluster.Cluster
	// infra carries the controllers', the kubelet's and the churn's requests,
	// sched the scheduler's: both follow the apiserver across restarts, and
	// sched is the one faults cut and slow down.
	infra, sched *apiproxy.Proxy
	cs           kubernetes.Interface
	proc         *schedulerprocess.Process
	cancel       context.CancelFunc
	// began is when the workloads were created: samples count from it.
	began time.Time
}

const (
	namespace      = "soak"
	schedulerName  = "placement-scheduler"
	leaseNamespace = "placement-scheduler"
)

func start(ctx context.Context, o options) (_ *soaker, err error) {
	logger := klog.FromContext(ctx)
	s := &soaker{o: o, began: time.Now()}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	// Without the watch cache a compaction expires the informers' watches,
	// which is the relist fault.
	if s.cluster, err = localcluster.Start(ctx, localcluster.Options{APIServerFlags: []string{"--watch-cache=false"}}); err != nil {
		return nil, err
	}
	if s.infra, err = apiproxy.Start(s.cluster.Config); err != nil {
		return nil, err
	}
	s.infra.Keep(func(apiproxy.Request) bool { return false })
	if s.sched, err = apiproxy.Start(s.cluster.Config); err != nil {
		return nil, err
	}
	// Only bindings are asked for at the end: exactly once per pod.
	s.sched.Keep(func(r apiproxy.Request) bool { _, ok := apiproxy.BoundPod(r); return ok })
	cfg := s.infra.Config()
	cfg.QPS, cfg.Burst = 500, 1000
	if s.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	for _, ns := range []string{namespace, leaseNamespace} {
		if _, err := s.cs.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	for i := range o.nodes {
		if _, err := s.cs.CoreV1().Nodes().Create(ctx, soakNode(i), metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating nodes: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	if err := s.startControllers(runCtx); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(o.out, "scheduler.kubeconfig")
	if err := s.sched.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	if s.proc, err = schedulerprocess.Start(runCtx, o.scheduler, o.out, kubeconfig, nil); err != nil {
		return nil, err
	}
	logger.Info("Soak is up", "apiserver", s.cluster.Config.Host, "scheduler", o.scheduler, "nodes", o.nodes)
	return s, nil
}

// startControllers runs what turns Deployments and StatefulSets into pods,
// and the kubelet that makes those pods run and go away.
func (s *soaker) startControllers(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(s.cs, 0)
	pods := factory.Core().V1().Pods()
	dc, err := deployment.NewDeploymentController(ctx, factory.Apps().V1().Deployments(), factory.Apps().V1().ReplicaSets(), pods, s.cs)
	if err != nil {
		return err
	}
	rsc := replicaset.NewReplicaSetController(ctx, factory.Apps().V1().ReplicaSets(), pods, s.cs, replicaset.BurstReplicas)
	ssc := statefulset.NewStatefulSetController(ctx, pods, factory.Apps().V1().StatefulSets(), factory.Core().V1().PersistentVolumeClaims(), factory.Apps().V1().ControllerRevisions(), s.cs)
	k := newKubelet(s.cs, pods, factory.Core().V1().Nodes())
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	go dc.Run(ctx, 2)
	go rsc.Run(ctx, 2)
	go ssc.Run(ctx, 2)
	go k.run(ctx, 4)
	return nil
}

// restartAPIServer restarts the apiserver with every client cut off, as an
// upgrade behind a load balancer does, and points the proxies at the new one.
func (s *soaker) restartAPIServer(ctx context.Context, down time.Duration) error {
	s.infra.Cut()
	s.sched.Cut()
	if err := s.cluster.RestartAPIServer(ctx, down); err != nil {
		return err
	}
	for _, p := range []*apiproxy.Proxy{s.infra, s.sched} {
		if err := p.SetUpstream(s.cluster.Config); err != nil {
			return err
		}
		p.Heal()
	}
	return nil
}

func (s *soaker) stop() {
	if s.proc != nil {
		s.proc.Stop()
	}
	if s.cancel != nil {
		s.cancel()
	}
	for _, p := range []*apiproxy.Proxy{s.infra, s.sched} {
		if p != nil {
			p.Close()
		}
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
}
