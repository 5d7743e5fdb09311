// Package sandbox is the demo behind `make run`: a control plane and the
// scheduler in-process, the fixtures cluster, the example pods of
// manifests/examples, and a table of where each pod landed and why others wait.
package sandbox

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localcluster"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
	"github.com/kube-placement/placement-scheduler/internal/render"
	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
	"github.com/kube-placement/placement-scheduler/pkg/kubectlplacement"
)

// Options tune Run.
type Options struct {
	// Keep leaves the control plane and the scheduler running after the report,
	// until ctx ends; the kubeconfig path is printed for kubectl.
	Keep bool
	// Timeout bounds the wait for placements.
	Timeout time.Duration
	// Explain names example pods to run `kubectl placement explain` on after
	// the table; pending pods are always explained.
	Explain []string
}

// Run starts a local control plane and placement-scheduler, creates the demo
// nodes and the example pods, and prints where each pod went.
func Run(ctx context.Context, out io.Writer, o Options) ([]Placement, error) {
	if o.Timeout == 0 {
		o.Timeout = 90 * time.Second
	}
	fmt.Fprintln(out, "Starting etcd and kube-apiserver in-process...")
	cluster, err := localcluster.Start(ctx, localcluster.Options{})
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	kubeconfig := filepath.Join(cluster.Dir(), "kubeconfig")
	if err := cluster.WriteKubeconfig(kubeconfig); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		return nil, err
	}

	// The deployable objects (namespace, RBAC, the configuration's ConfigMap,
	// the Deployment), so that `kubectl placement` finds the configuration
	// the way it does on a real cluster. Without a controller manager the
	// Deployment creates no pods; the scheduler runs in this process instead.
	if err := applyManifests(ctx, cluster); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "Applied the kustomize base (manifests/); starting placement-scheduler with its configuration...")
	sched, err := localscheduler.Start(ctx, localscheduler.Options{Kubeconfig: kubeconfig, Flags: []string{"--secure-port=0"}})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()

	nodes := fixtures.Nodes()
	if err := fixtures.CreateNodes(ctx, cs, nodes); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Created %d nodes over 3 zones (node-b2: disktype=ssd; node-c2: gpu=true, taint dedicated=gpu:NoSchedule).\n", len(nodes))

	examples, err := fixtures.Examples()
	if err != nil {
		return nil, err
	}
	names, err := createExamples(ctx, cs, examples)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Applied %d example pods from manifests/examples; waiting for placement...\n\n", len(names))
	if err := WaitSettled(ctx, cs, metav1.NamespaceDefault, names, 2*time.Second, o.Timeout); err != nil {
		return nil, fmt.Errorf("waiting for the examples to be placed: %w", err)
	}
	placements, err := Collect(ctx, cs, metav1.NamespaceDefault, examples)
	if err != nil {
		return nil, err
	}
	if err := PrintTable(out, placements); err != nil {
		return nil, err
	}
	if err := explainPods(ctx, out, cs, placements, o.Explain); err != nil {
		return nil, err
	}
	if o.Keep {
		fmt.Fprintf(out, "\nThe cluster stays up until you press Ctrl-C:\n  export KUBECONFIG=%s\n  kubectl get pods -o wide\n", kubeconfig)
		<-ctx.Done()
	}
	return placements, nil
}

func createExamples(ctx context.Context, cs kubernetes.Interface, examples []fixtures.Example) ([]string, error) {
	var names []string
	for _, ex := range examples {
		for _, p := range ex.Pods {
			if _, err := cs.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				return nil, fmt.Errorf("%s: creating pod %s: %w", ex.File, p.Name, err)
			}
			names = append(names, p.Name)
		}
	}
	return names, nil
}

// explainPods prints `kubectl placement explain` for the pending examples and
// the ones named.
func explainPods(ctx context.Context, out io.Writer, cs kubernetes.Interface, placements []Placement, names []string) error {
	cfg, err := explain.ParseConfig(manifests.SchedulerConfig)
	if err != nil {
		return err
	}
	for _, p := range placements {
		if !p.Pending() && !slices.Contains(names, p.Pod) {
			continue
		}
		pod, err := cs.CoreV1().Pods(metav1.NamespaceDefault).Get(ctx, p.Pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		e, err := explain.Explain(ctx, explain.Options{Client: cs, Config: cfg}, pod)
		if err != nil {
			return fmt.Errorf("explaining %s: %w", p.Pod, err)
		}
		fmt.Fprintf(out, "\n$ kubectl placement explain pod/%s\n", p.Pod)
		if err := kubectlplacement.Print(out, e, "text", kubectlplacement.PrintOptions{Top: 10, NodesPerGroup: 5}); err != nil {
			return err
		}
	}
	return nil
}

func applyManifests(ctx context.Context, cluster *localcluster.Cluster) error {
	stream, err := render.Kustomize(render.ManifestsDir())
	if err != nil {
		return err
	}
	objs, err := render.Objects(stream)
	if err != nil {
		return err
	}
	_, err = cluster.Apply(ctx, objs)
	return err
}
