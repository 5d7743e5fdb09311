package sandbox

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
)

// Placement is where one pod is, or why it is not anywhere yet.
type Placement struct {
	Example string
	Pod     string
	Node    string
	Zone    string
	// Message is the latest FailedScheduling message of a pending pod.
	Message string
}

// Pending reports whether the pod is not bound.
func (p Placement) Pending() bool { return p.Node == "" }

// Settled reports whether the scheduler has decided on pod: it is bound, or
// marked unschedulable.
func Settled(pod *v1.Pod) bool {
	if pod.Spec.NodeName != "" {
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

// WaitSettled waits until every named pod in namespace is settled and the
// picture has not changed for `quiet` (a pod retried after another was bound
// settles twice), or until timeout.
func WaitSettled(ctx context.Context, cs kubernetes.Interface, namespace string, names []string, quiet, timeout time.Duration) error {
	var last string
	var since time.Time
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		state := ""
		for _, name := range names {
			pod, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			if !Settled(pod) {
				last = ""
				return false, nil
			}
			state += name + "=" + pod.Spec.NodeName + ";"
		}
		if state != last {
			last, since = state, time.Now()
			return false, nil
		}
		return time.Since(since) >= quiet, nil
	})
}

// Collect reads the placement of the pods of each example.
func Collect(ctx context.Context, cs kubernetes.Interface, namespace string, examples []fixtures.Example) ([]Placement, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	zones := map[string]string{}
	for _, n := range nodes.Items {
		zones[n.Name] = n.Labels[fixtures.ZoneLabel]
	}
	var out []Placement
	for _, ex := range examples {
		for _, p := range ex.Pods {
			pod, err := cs.CoreV1().Pods(namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			pl := Placement{Example: ex.File, Pod: pod.Name, Node: pod.Spec.NodeName, Zone: zones[pod.Spec.NodeName]}
			if pl.Pending() {
				if pl.Message, err = fixtures.FailedSchedulingMessage(ctx, cs, pod); err != nil {
					return nil, err
				}
			}
			out = append(out, pl)
		}
	}
	return out, nil
}

// PrintTable writes the placements as an aligned table.
func PrintTable(w io.Writer, placements []Placement) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXAMPLE\tPOD\tNODE\tZONE\tWHY PENDING")
	for _, p := range placements {
		node, zone := p.Node, p.Zone
		if p.Pending() {
			node, zone = "<pending>", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Example, p.Pod, node, zone, p.Message)
	}
	return tw.Flush()
}
