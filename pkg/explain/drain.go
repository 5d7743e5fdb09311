package explain

import (
	"context"
	"fmt"
	"slices"
	"sort"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
)

// DrainPlan is what draining some nodes would do: which pods a drain evicts,
// where the scheduler would put them again on the nodes that remain, which
// stay pending and why, which pods stay or go for good, and which
// PodDisruptionBudgets the evictions would wait on.
type DrainPlan struct {
	metav1.TypeMeta `json:",inline"`
	// Drained are the nodes drained (cordoned, their pods evicted);
	// Remaining counts the other nodes.
	Drained   []string `json:"drained"`
	Remaining int      `json:"remaining"`
	// Evicted are the pods a controller re-creates, in the order they were
	// placed again: by priority, highest first, then namespace and name.
	Evicted []EvictedPod `json:"evicted"`
	Placed  int          `json:"placed"`
	Pending int          `json:"pending"`
	// Stay are the pods a drain leaves where they are: DaemonSet pods and
	// mirror (static) pods.
	Stay []PodRef `json:"stay"`
	// Unmanaged are the pods no controller re-creates: a drain deletes them
	// for good (kubectl drain refuses without --force).
	Unmanaged []PodRef `json:"unmanaged"`
	// Budgets are the PodDisruptionBudgets that allow fewer disruptions now
	// than the drain evicts of their pods: the evictions wait on them.
	Budgets []BudgetBlock `json:"budgets"`
	Notes   []string      `json:"notes,omitempty"`
}

// EvictedPod is one evicted pod and where it would go again.
type EvictedPod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	From      string `json:"from"`
	// Controller is the owner that re-creates it, kind/name.
	Controller string `json:"controller"`
	Priority   int32  `json:"priority"`
	// Node is where the scheduler would put it; empty when it fits nowhere,
	// and Unschedulable is the FailedScheduling message.
	Node          string `json:"node,omitempty"`
	Unschedulable string `json:"unschedulable,omitempty"`
}

// PodRef names a pod on a drained node and why it is listed.
type PodRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Node      string `json:"node"`
	Reason    string `json:"reason"`
}

// BudgetBlock is a PodDisruptionBudget the drain would wait on.
type BudgetBlock struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// DisruptionsAllowed is the budget's status now; Evicts counts the pods
	// it covers that the drain evicts.
	DisruptionsAllowed int32 `json:"disruptionsAllowed"`
	Evicts             int   `json:"evicts"`
}

// NodesNotFoundError names drain targets the cluster does not have.
type NodesNotFoundError struct{ Names []string }

func (e *NodesNotFoundError) Error() string {
	return fmt.Sprintf("nodes not found: %v", e.Names)
}

// NodesMatching lists the session's nodes that selector matches, by name.
func (s *Session) NodesMatching(selector labels.Selector) ([]string, error) {
	nodes, err := s.c.factory.Core().V1().Nodes().Lister().List(selector)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	return names, nil
}

// Drain simulates `kubectl drain` of the named nodes over the session: the
// nodes are cordoned and every pod on them that a drain evicts is taken out
// of the snapshot at once; then the pods a controller re-creates are placed
// again one by one with their own profiles, by priority, highest first, so
// each counts for the next. It changes the session: open a new one for
// another question.
func (s *Session) Drain(ctx context.Context, nodes []string) (*DrainPlan, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no nodes to drain")
	}
	ctx = quiet(ctx)
	logger := klog.FromContext(ctx)
	nodeLister := s.c.factory.Core().V1().Nodes().Lister()
	var missing []string
	for _, name := range nodes {
		if _, err := nodeLister.Get(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &NodesNotFoundError{Names: missing}
	}
	plan := &DrainPlan{TypeMeta: typeMeta("DrainPlan"), Drained: slices.Sorted(slices.Values(nodes)),
		Evicted: []EvictedPod{}, Stay: []PodRef{}, Unmanaged: []PodRef{}, Budgets: []BudgetBlock{}}
	plan.Remaining = s.Nodes() - len(nodes)

	evicted, gone, err := s.sortDrainedPods(plan)
	if err != nil {
		return nil, err
	}
	plan.Budgets = s.blockingBudgets(evicted, plan)
	cache := s.c.sched.Cache
	for _, name := range nodes {
		node, _ := nodeLister.Get(name)
		cordoned := node.DeepCopy()
		cordoned.Spec.Unschedulable = true
		cache.UpdateNode(logger, node, cordoned)
	}
	// Every pod that leaves goes at once, as a drain evicts in parallel: the
	// ones placed again, and those no one here re-creates (their terms and
	// requests no longer count).
	for _, pod := range append(slices.Clone(evicted), gone...) {
		if err := cache.RemovePod(logger, pod); err != nil {
			return nil, fmt.Errorf("taking pod %s/%s out of the snapshot: %w", pod.Namespace, pod.Name, err)
		}
	}
	sort.SliceStable(evicted, func(i, j int) bool {
		if pi, pj := podPriority(evicted[i]), podPriority(evicted[j]); pi != pj {
			return pi > pj
		}
		return false
	})
	for _, pod := range evicted {
		e := EvictedPod{Namespace: pod.Namespace, Name: pod.Name, From: pod.Spec.NodeName, Controller: controllerOf(pod), Priority: podPriority(pod)}
		again := pod.DeepCopy()
		again.Spec.NodeName = ""
		again.Status = v1.PodStatus{}
		node, err := s.Place(ctx, again)
		if msg, ok := Unschedulable(err); ok {
			e.Unschedulable = msg
			plan.Pending++
		} else if err != nil {
			return nil, fmt.Errorf("placing pod %s/%s again: %w", pod.Namespace, pod.Name, err)
		} else {
			e.Node = node
			plan.Placed++
		}
		plan.Evicted = append(plan.Evicted, e)
	}
	return plan, nil
}

// sortDrainedPods sorts the pods on the drained nodes as kubectl drain
// does: DaemonSet and mirror pods stay, finished pods are gone already,
// pods without a controller go for good, the rest are evicted. It returns
// the evicted pods to place again, by namespace and name, and the pods that
// leave without being placed here: those without a controller, and the
// evicted pods of schedulers without a profile here (noted).
func (s *Session) sortDrainedPods(plan *DrainPlan) (evicted, gone []*v1.Pod, err error) {
	all, err := s.c.factory.Core().V1().Pods().Lister().List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Namespace != all[j].Namespace {
			return all[i].Namespace < all[j].Namespace
		}
		return all[i].Name < all[j].Name
	})
	others := 0
	for _, pod := range all {
		if !slices.Contains(plan.Drained, pod.Spec.NodeName) || !running(pod) {
			continue
		}
		ref := PodRef{Namespace: pod.Namespace, Name: pod.Name, Node: pod.Spec.NodeName}
		owner := metav1.GetControllerOf(pod)
		switch {
		case pod.Annotations[v1.MirrorPodAnnotationKey] != "":
			ref.Reason = "mirror pod: the kubelet runs it"
			plan.Stay = append(plan.Stay, ref)
		case owner != nil && owner.Kind == "DaemonSet":
			ref.Reason = "DaemonSet " + owner.Name
			plan.Stay = append(plan.Stay, ref)
		case owner == nil:
			ref.Reason = "no controller re-creates it"
			plan.Unmanaged = append(plan.Unmanaged, ref)
			gone = append(gone, pod)
		default:
			if _, ok := s.c.sched.Profiles[pod.Spec.SchedulerName]; !ok {
				others++
				gone = append(gone, pod)
				continue
			}
			evicted = append(evicted, pod)
		}
	}
	if others > 0 {
		plan.Notes = append(plan.Notes, fmt.Sprintf("%d evicted pods of schedulers without a profile here are not placed again", others))
	}
	return evicted, gone, nil
}

// blockingBudgets lists the PodDisruptionBudgets that allow fewer
// disruptions now than the drain evicts of their pods.
func (s *Session) blockingBudgets(evicted []*v1.Pod, plan *DrainPlan) []BudgetBlock {
	inf := s.c.factory.Policy().V1().PodDisruptionBudgets()
	if !inf.Informer().HasSynced() {
		plan.Notes = append(plan.Notes, "PodDisruptionBudgets were not listed: no plugin of the profiles reads them")
		return []BudgetBlock{}
	}
	pdbs, err := inf.Lister().List(labels.Everything())
	if err != nil {
		return []BudgetBlock{}
	}
	out := []BudgetBlock{}
	for _, pdb := range pdbs {
		if n := covered(pdb, evicted); n > int(pdb.Status.DisruptionsAllowed) {
			out = append(out, BudgetBlock{Namespace: pdb.Namespace, Name: pdb.Name, DisruptionsAllowed: pdb.Status.DisruptionsAllowed, Evicts: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// covered counts the pods a budget's selector matches in its namespace. In
// policy/v1 a null selector matches none and an empty one every pod.
func covered(pdb *policyv1.PodDisruptionBudget, pods []*v1.Pod) int {
	if pdb.Spec.Selector == nil {
		return 0
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range pods {
		if p.Namespace == pdb.Namespace && sel.Matches(labels.Set(p.Labels)) {
			n++
		}
	}
	return n
}

func controllerOf(pod *v1.Pod) string {
	if owner := metav1.GetControllerOf(pod); owner != nil {
		return owner.Kind + "/" + owner.Name
	}
	return ""
}
