package podaffinity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/internal/gates"
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
	args         Args
	snapshot     fwk.SharedLister
	namespaces   *namespaceView
	parallelizer fwk.Parallelizer
	gates        gates.Gates
	// index keeps counts across cycles; see index.go.
	index *index
	// classes keeps what existing terms read of namespaces; see classes.go.
	classes classCache
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
	namespaces := newNamespaceView(nsInformer.Lister())
	if err := namespaces.follow(nsInformer.Informer()); err != nil {
		return nil, fmt.Errorf("%s: watching namespaces: %w", Name, err)
	}
	return &PodAffinity{
		args:         a,
		snapshot:     h.SnapshotSharedLister(),
		namespaces:   namespaces,
		parallelizer: h.Parallelizer(),
		gates:        gates.Current(),
		index:        newIndex(),
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

// selectorKeysState is what the pods in the snapshot select on: the label
// keys their terms name and what they read of namespaces (all terms, and
// required anti-affinity terms alone), and whether any of them has terms
// that score (required affinity, preferred terms). PreFilter and PreScore
// both need it; the cycle computes it once.
type selectorKeysState struct {
	all, requiredAnti []string
	// allNamespaces and antiNamespaces are nil when no term names a
	// namespace or reads a namespace label: every namespace is then alike.
	allNamespaces, antiNamespaces *namespaceClasses
	scoring                       bool
}

const selectorKeysKey fwk.StateKey = "SelectorKeys" + Name

func (s *selectorKeysState) Clone() fwk.StateData { return s }

// selectorKeys returns the cycle's selectorKeysState, computing it on first
// need from the index.
func (pl *PodAffinity) selectorKeys(ctx context.Context, cs fwk.CycleState) (*selectorKeysState, error) {
	if data, err := cs.Read(selectorKeysKey); err == nil {
		if s, ok := data.(*selectorKeysState); ok {
			return s, nil
		}
	}
	nodes, err := pl.snapshot.NodeInfos().HavePodsWithAffinityList()
	if err != nil {
		return nil, fmt.Errorf("%s: listing nodes with affinity pods: %w", Name, err)
	}
	if len(nodes) == 0 {
		// No pod has terms: nothing to count, and no reason to walk the
		// nodes (most clusters, for most pods).
		s := &selectorKeysState{}
		cs.Write(selectorKeysKey, s)
		return s, nil
	}
	sums, err := pl.query(ctx, cs, selectorKeysQuery, nodes, selectorKeyShares)
	if err != nil {
		return nil, err
	}
	s := &selectorKeysState{scoring: sums.get(scoringMark) > 0}
	// The keys are sorted, and so is each kind of them below.
	var sets, labelKeys, antiSets, antiLabelKeys []string
	for _, k := range sums.keys {
		anti := sums.get(domain{k, requiredAntiMark}) > 0
		switch {
		case k == scoringMark.key:
		case strings.HasPrefix(k, namespacesMark):
			sets = append(sets, k[len(namespacesMark):])
			if anti {
				antiSets = append(antiSets, k[len(namespacesMark):])
			}
		case strings.HasPrefix(k, namespaceLabelMark):
			labelKeys = append(labelKeys, k[len(namespaceLabelMark):])
			if anti {
				antiLabelKeys = append(antiLabelKeys, k[len(namespaceLabelMark):])
			}
		default:
			s.all = append(s.all, k)
			if anti {
				s.requiredAnti = append(s.requiredAnti, k)
			}
		}
	}
	s.allNamespaces = pl.classes.get("all", sets, labelKeys)
	s.antiNamespaces = pl.classes.get("required-anti", antiSets, antiLabelKeys)
	cs.Write(selectorKeysKey, s)
	return s, nil
}

// scanKey marks a cycle whose nodes the index has scanned.
const scanKey fwk.StateKey = "Scan" + Name

type scanState struct{ x *index }

func (s *scanState) Clone() fwk.StateData { return s }

// startCycle has the index scan the snapshot's nodes, once per scheduling
// cycle: the cycle state is the cycle's token, and the snapshot does not
// change within a cycle (but see query).
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
	pl.index.scan(all)
	cs.Write(scanKey, &scanState{pl.index})
	return nil
}

// query answers from the index; see index.query. In a pod group's
// scheduling cycle the scheduler assumes the group's pods into the snapshot
// itself and keeps the nodes' generations (it restores the snapshot after),
// so generations cannot tell what changed: the counts are then made afresh
// and the index is left as it was.
func (pl *PodAffinity) query(ctx context.Context, cs fwk.CycleState, key string, nodes []fwk.NodeInfo, count countRule) (*domainSums, error) {
	sums, _, err := pl.ask(ctx, cs, key, nodes, count, byDomain)
	return sums, err
}

// queryTotals is query for per-node totals over the snapshot's node list.
func (pl *PodAffinity) queryTotals(ctx context.Context, cs fwk.CycleState, key string, nodes []fwk.NodeInfo, count countRule) (*nodeTotals, error) {
	_, totals, err := pl.ask(ctx, cs, key, nodes, count, byNode)
	return totals, err
}

// ask is query for the publications in forms f; see index.refresh.
func (pl *PodAffinity) ask(ctx context.Context, cs fwk.CycleState, key string, nodes []fwk.NodeInfo, count countRule, f forms) (*domainSums, *nodeTotals, error) {
	if cs.IsPodGroupSchedulingCycle() {
		sums, totals := countOnce(ctx, pl.parallelizer, nodes, count, f)
		return sums, totals, nil
	}
	if err := pl.startCycle(cs); err != nil {
		return nil, nil, err
	}
	sums, totals := pl.index.refresh(ctx, pl.parallelizer, key, nodes, count, f)
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
