package main

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// kubelet stands in for every node's kubelet and for the pod garbage
// collector: a bound pod starts running and turns Ready at once, a pod being
// deleted goes away at once, and a pod bound to a node that no longer exists
// is deleted. Without it a rolling StatefulSet waits for readiness forever and
// a scaled-down Deployment's pods never leave.
type kubelet struct {
	cs    kubernetes.Interface
	pods  corelisters.PodLister
	nodes corelisters.NodeLister
	queue workqueue.TypedRateLimitingInterface[string]
}

func newKubelet(cs kubernetes.Interface, pods coreinformers.PodInformer, nodes coreinformers.NodeInformer) *kubelet {
	k := &kubelet{
		cs: cs, pods: pods.Lister(), nodes: nodes.Lister(),
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	return k
}

func (k *kubelet) run(ctx context.Context, workers int) {
	defer k.queue.ShutDown()
	for range workers {
		go wait.UntilWithContext(ctx, k.work, time.Second)
	}
	<-ctx.Done()
}

func (k *kubelet) work(ctx context.Context) {
	for {
		key, quit := k.queue.Get()
		if quit {
			return
		}
		if err := k.sync(ctx, key); err != nil {
			klog.FromContext(ctx).V(2).Info("Kubelet sync failed, will retry", "pod", key, "err", err)
			k.queue.AddRateLimited(key)
		} else {
			k.queue.Forget(key)
		}
		k.queue.Done(key)
	}
}

func (k *kubelet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return nil
	}
	_, nodeErr := k.nodes.Get(pod.Spec.NodeName)
	if pod.DeletionTimestamp != nil || apierrors.IsNotFound(nodeErr) {
		return k.remove(ctx, pod)
	}
	if pod.Status.Phase == v1.PodRunning {
		return nil
	}
	return k.startRunning(ctx, pod)
}

// remove deletes the pod for good, this very pod only (a StatefulSet
// re-creates one of the same name).
func (k *kubelet) remove(ctx context.Context, pod *v1.Pod) error {
	err := k.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func (k *kubelet) startRunning(ctx context.Context, pod *v1.Pod) error {
	now := metav1.Now()
	pod = pod.DeepCopy()
	pod.Status.Phase = v1.PodRunning
	pod.Status.StartTime = &now
	pod.Status.PodIP = fmt.Sprintf("10.%d.%d.%d", pod.UID[0], pod.UID[1], pod.UID[2])
	pod.Status.Conditions = nil
	for _, c := range []v1.PodConditionType{v1.PodScheduled, v1.PodInitialized, v1.ContainersReady, v1.PodReady} {
		pod.Status.Conditions = append(pod.Status.Conditions, v1.PodCondition{Type: c, Status: v1.ConditionTrue, LastTransitionTime: now})
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, v1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: new(true),
			State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: now}},
		})
	}
	_, err := k.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed since: the informer brings it back if it matters.
		return nil
	}
	return err
}
