package explain

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Priorities sets spec.priority and spec.preemptionPolicy as the API server's
// Priority admission does on create: from the pod's PriorityClass, or the
// cluster's global default class, or 0.
type Priorities struct {
	classes map[string]*schedulingv1.PriorityClass
	global  *schedulingv1.PriorityClass
}

// ListPriorities reads the cluster's PriorityClasses.
func ListPriorities(ctx context.Context, cs kubernetes.Interface) (*Priorities, error) {
	list, err := cs.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, NewRequestError(err, "list", "priorityclasses.scheduling.k8s.io", "", "")
	}
	p := &Priorities{classes: map[string]*schedulingv1.PriorityClass{}}
	for i := range list.Items {
		c := &list.Items[i]
		p.classes[c.Name] = c
		if c.GlobalDefault && (p.global == nil || c.Value < p.global.Value) {
			p.global = c
		}
	}
	return p, nil
}

// Admit sets pod's priority; a class that does not exist is the error the
// API server would give.
func (p *Priorities) Admit(pod *v1.Pod) error {
	if pod.Spec.Priority != nil {
		return nil
	}
	class := p.global
	if name := pod.Spec.PriorityClassName; name != "" {
		if class = p.classes[name]; class == nil {
			return fmt.Errorf("spec.priorityClassName: no PriorityClass with name %s was found", name)
		}
	}
	var value int32
	if class != nil {
		value = class.Value
		if pod.Spec.PreemptionPolicy == nil && class.PreemptionPolicy != nil {
			policy := *class.PreemptionPolicy
			pod.Spec.PreemptionPolicy = &policy
		}
	}
	pod.Spec.Priority = &value
	return nil
}
