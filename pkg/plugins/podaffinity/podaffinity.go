package podaffinity

import (
	"context"
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/gates"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity/internal/counting"
)

const (
	// Name is the plugin's name in the registry and in scheduler configurations.
	Name = "PlacementPodAffinity"

	// ErrReasonAffinity: no pod in the node's topology domain satisfies the
	// incoming pod's required affinity. Evicting pods cannot add one, hence
	// UnschedulableAndUnresolvable.
	ErrReasonAffinity = "node(s) didn't match pod affinity rules"
	// ErrReasonAntiAffinity: a pod in the node's domain matches the incoming
	// pod's required anti-affinity. Evicting it can help: Unschedulable.
	ErrReasonAntiAffinity = "node(s) didn't match pod anti-affinity rules"
	// ErrReasonExistingAntiAffinity: a pod in the node's domain has required
	// anti-affinity that the incoming pod matches. Evicting it can help.
	ErrReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
)

// PodAffinity is the plugin.
type PodAffinity struct {
	args       Args
	snapshot   fwk.SharedLister
	namespaces *namespaceTracker
	gates      gates.Gates
	// index keeps counts across cycles (package counting).
	index *counting.Index
	// classes keeps what existing terms read of namespaces, so that a
	// cycle whose terms read the same keeps the views keyed on them.
	classes counting.ClassCache
}

var (
	_ fwk.PreFilterPlugin   = &PodAffinity{}
	_ fwk.FilterPlugin      = &PodAffinity{}
	_ fwk.PreScorePlugin    = &PodAffinity{}
	_ fwk.ScorePlugin       = &PodAffinity{}
	_ fwk.EnqueueExtensions = &PodAffinity{}
	_ fwk.SignPlugin        = &PodAffinity{}
)

// New builds the plugin. It reads the cycle's snapshot and the namespace
// informer, both of which the handle must provide.
func New(_ context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
	a, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	return NewWithArgs(h, a)
}

// NewWithArgs builds the plugin from decoded args, defaulting and validating
// them.
func NewWithArgs(h fwk.Handle, a Args) (*PodAffinity, error) {
	a, err := a.complete()
	if err != nil {
		return nil, err
	}
	if h.SnapshotSharedLister() == nil {
		return nil, errors.New(Name + ": the framework handle has no snapshot lister")
	}
	if h.SharedInformerFactory() == nil {
		return nil, errors.New(Name + ": the framework handle has no informer factory")
	}
	nsInformer := h.SharedInformerFactory().Core().V1().Namespaces()
	namespaces := newNamespaceTracker(nsInformer.Lister())
	if err := namespaces.follow(nsInformer.Informer()); err != nil {
		return nil, fmt.Errorf("%s: watching namespaces: %w", Name, err)
	}
	return &PodAffinity{
		args:       a,
		snapshot:   h.SnapshotSharedLister(),
		namespaces: namespaces,
		gates:      gates.Current(),
		index:      counting.NewIndex(h.Parallelizer(), Name),
	}, nil
}

// Name returns the plugin's name.
func (*PodAffinity) Name() string { return Name }

// resolveNamespaces turns a term's namespaceSelector into the namespaces it
// selects now, so that matching an existing pod needs no namespace lookup.
// An empty selector ({}) selects every namespace and is kept as is.
func (pl *PodAffinity) resolveNamespaces(term *fwk.AffinityTerm) error {
	if term.NamespaceSelector.Empty() {
		return nil
	}
	names, err := pl.namespaces.list(term.NamespaceSelector)
	if err != nil {
		return fmt.Errorf("listing namespaces for a namespaceSelector: %w", err)
	}
	term.Namespaces.Insert(names...)
	term.NamespaceSelector = labels.Nothing()
	return nil
}

func (pl *PodAffinity) resolveAll(terms []fwk.AffinityTerm) error {
	for i := range terms {
		if err := pl.resolveNamespaces(&terms[i]); err != nil {
			return err
		}
	}
	return nil
}

// selectorKeysState is the cycle's counting.SelectorKeys: what the terms of
// the pods in the snapshot read of an incoming pod. PreFilter and PreScore
// both need it; the cycle computes it once.
type selectorKeysState struct{ counting.SelectorKeys }

const selectorKeysKey fwk.StateKey = "SelectorKeys" + Name

func (s *selectorKeysState) Clone() fwk.StateData { return s }

// selectorKeys returns the cycle's selector keys, computing them on first
// need from the index.
func (pl *PodAffinity) selectorKeys(ctx context.Context, cs fwk.CycleState) (*counting.SelectorKeys, error) {
	if data, err := cs.Read(selectorKeysKey); err == nil {
		if s, ok := data.(*selectorKeysState); ok {
			return &s.SelectorKeys, nil
		}
	}
	nodes, err := pl.snapshot.NodeInfos().HavePodsWithAffinityList()
	if err != nil {
		return nil, fmt.Errorf("%s: listing nodes with affinity pods: %w", Name, err)
	}
	var sums *counting.Sums
	// No pod has terms (most clusters, for most pods): nothing to count,
	// and no reason to walk the nodes.
	if len(nodes) > 0 {
		if sums, _, err = pl.ask(ctx, cs, counting.SelectorKeysQuery, nodes, counting.SelectorKeysRule, counting.ByDomain); err != nil {
			return nil, err
		}
	}
	s := &selectorKeysState{counting.ReadSelectorKeys(sums, &pl.classes)}
	cs.Write(selectorKeysKey, s)
	return &s.SelectorKeys, nil
}

// scanKey marks a cycle whose nodes the index has scanned.
const scanKey fwk.StateKey = "Scan" + Name

type scanState struct{ x *counting.Index }

func (s *scanState) Clone() fwk.StateData { return s }

// startCycle has the index scan the snapshot's nodes, once per scheduling
// cycle: the cycle state is the cycle's token, and the snapshot does not
// change within a cycle (but see ask).
func (pl *PodAffinity) startCycle(cs fwk.CycleState) error {
	if data, err := cs.Read(scanKey); err == nil {
		if s, ok := data.(*scanState); ok && s.x == pl.index {
			return nil
		}
	}
	all, err := pl.snapshot.NodeInfos().List()
	if err != nil {
		return fmt.Errorf("%s: listing nodes: %w", Name, err)
	}
	pl.index.Scan(all)
	cs.Write(scanKey, &scanState{pl.index})
	return nil
}

// ask answers the query key from the index, in forms f (see
// counting.Index.Query). In a pod group's scheduling cycle the scheduler
// assumes the group's pods into the snapshot itself and keeps the nodes'
// generations (it restores the snapshot after), so generations cannot tell
// what changed: the counts are then made afresh and the index is left as it
// was.
func (pl *PodAffinity) ask(ctx context.Context, cs fwk.CycleState, key string, nodes []fwk.NodeInfo, rule counting.Rule, f counting.Forms) (*counting.Sums, *counting.Totals, error) {
	if cs.IsPodGroupSchedulingCycle() {
		sums, totals := pl.index.CountOnce(ctx, nodes, rule, f)
		return sums, totals, nil
	}
	if err := pl.startCycle(cs); err != nil {
		return nil, nil, err
	}
	sums, totals := pl.index.Query(ctx, key, nodes, rule, f)
	return sums, totals, nil
}

// namespaceLabels returns the labels of namespace ns, which existing pods'
// namespaceSelectors are matched against. A namespace the informer has not
// seen has no labels.
func (pl *PodAffinity) namespaceLabels(logger klog.Logger, ns string) labels.Set {
	set, found, err := pl.namespaces.labels(ns)
	if !found {
		logger.V(3).Info("Namespace not found; matching it as unlabelled", "namespace", ns, "err", err)
		return nil
	}
	return labels.Merge(set, nil)
}

// SignPod gives the pod's signature for opportunistic batching: pods with
// inter-pod terms cannot share results (their verdicts depend on each other's
// placement). For other pods, existing pods' required anti-affinity and
// preferred terms match on the incoming pod's labels, so the labels are the
// signature even when preferred terms of existing pods are ignored: signing
// less would let pods share a verdict they do not share.
func (pl *PodAffinity) SignPod(_ context.Context, pod *v1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	if a := pod.Spec.Affinity; a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil) {
		return nil, fwk.NewStatus(fwk.Unschedulable, "pods with inter-pod affinity are not signable")
	}
	return []fwk.SignFragment{{Key: fwk.LabelsSignerName, Value: pod.Labels}}, nil
}
