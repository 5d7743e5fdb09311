package integration

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	st "k8s.io/kubernetes/pkg/scheduler/testing"

	"github.com/kube-placement/placement-scheduler/internal/fixtures"
	"github.com/kube-placement/placement-scheduler/internal/localscheduler"
)

func appSelector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// onNode pins a pod to a node through its hostname label, so that our
// filters (not spec.nodeName) place it.
func onNode(p *st.PodWrapper, node string) *st.PodWrapper {
	return p.NodeSelector(map[string]string{v1.LabelHostname: node})
}

// TestPodAffinity exercises PlacementPodAffinity end to end on the sandbox's
// six nodes (three zones; node-c2 is tainted, so five nodes take these pods).
// Each subtest uses its own app labels so that the others do not interfere.
func TestPodAffinity(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(localscheduler.Options{})
	e.createNodes(fixtures.Nodes()...)

	t.Run("anti-affinity spreads replicas one per node; a pending one binds when a replica goes", func(t *testing.T) {
		var replicas []*v1.Pod
		nodes := map[string]bool{}
		for i := range 5 {
			p := e.createPod(pausePod("spread-"+string(rune('a'+i))).Label("app", "spread").
				PodAntiAffinity(v1.LabelHostname, appSelector("spread"), st.PodAntiAffinityWithRequiredReq).Obj())
			replicas = append(replicas, p)
			nodes[e.waitBound(p, 30*time.Second)] = true
		}
		if len(nodes) != 5 {
			t.Fatalf("5 replicas on %d nodes, want one per node", len(nodes))
		}
		extra := e.createPod(pausePod("spread-extra").Label("app", "spread").
			PodAntiAffinity(v1.LabelHostname, appSelector("spread"), st.PodAntiAffinityWithRequiredReq).Obj())
		msg := e.waitFailedScheduling(extra, 30*time.Second)
		const want = "0/6 nodes are available: 1 node(s) had untolerated taint(s), 5 node(s) didn't match pod anti-affinity rules."
		if !strings.HasPrefix(msg, want) {
			t.Errorf("FailedScheduling:\n got %q\nwant prefix %q", msg, want)
		}
		gone := e.getPod(replicas[2]).Spec.NodeName
		e.deletePod(replicas[2])
		start := time.Now()
		if node := e.waitBound(extra, 15*time.Second); node != gone {
			t.Errorf("pending replica bound to %s, want the freed node %s", node, gone)
		}
		t.Logf("pending replica bound %v after the blocking pod's deletion", time.Since(start))
	})

	t.Run("affinity co-locates in a zone", func(t *testing.T) {
		db := e.createPod(onNode(pausePod("db").Label("app", "db"), "node-b1").Obj())
		e.waitBound(db, 30*time.Second)
		for _, name := range []string{"api-1", "api-2", "api-3"} {
			p := e.createPod(pausePod(name).Label("app", "api").
				PodAffinity(v1.LabelTopologyZone, appSelector("db"), st.PodAffinityWithRequiredReq).Obj())
			if node := e.waitBound(p, 30*time.Second); node != "node-b1" && node != "node-b2" {
				t.Errorf("%s on %s, want zone-b (node-b1 or node-b2)", name, node)
			}
		}
	})

	t.Run("first pod of a self-affine group starts anywhere, the rest follow its zone", func(t *testing.T) {
		first := e.createPod(pausePod("group-1").Label("app", "group").
			PodAffinity(v1.LabelTopologyZone, appSelector("group"), st.PodAffinityWithRequiredReq).Obj())
		zone := zoneOf(e.waitBound(first, 30*time.Second))
		second := e.createPod(pausePod("group-2").Label("app", "group").
			PodAffinity(v1.LabelTopologyZone, appSelector("group"), st.PodAffinityWithRequiredReq).Obj())
		if got := zoneOf(e.waitBound(second, 30*time.Second)); got != zone {
			t.Errorf("second pod in %s, first in %s", got, zone)
		}
	})

	t.Run("an existing pod's anti-affinity keeps a newcomer away until it goes", func(t *testing.T) {
		loner := e.createPod(onNode(pausePod("loner").Label("app", "loner"), "node-c1").
			PodAntiAffinity(v1.LabelHostname, appSelector("noisy"), st.PodAntiAffinityWithRequiredReq).Obj())
		e.waitBound(loner, 30*time.Second)
		noisy := e.createPod(onNode(pausePod("noisy").Label("app", "noisy"), "node-c1").Obj())
		msg := e.waitFailedScheduling(noisy, 30*time.Second)
		if !strings.Contains(msg, "1 node(s) didn't satisfy existing pods anti-affinity rules") {
			t.Errorf("FailedScheduling %q does not name the existing pod's anti-affinity", msg)
		}
		e.deletePod(loner)
		if node := e.waitBound(noisy, 15*time.Second); node != "node-c1" {
			t.Errorf("newcomer on %s, want node-c1", node)
		}
	})

	t.Run("namespaceSelector", func(t *testing.T) {
		ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-x", Labels: map[string]string{"team": "x"}}}
		if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		shared := e.createPod(onNode(pausePod("shared").Namespace("team-x").Label("app", "shared"), "node-a2").Obj())
		e.waitBound(shared, 30*time.Second)
		term := func(team string) *v1.Affinity {
			return &v1.Affinity{PodAffinity: &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector:     appSelector("shared"),
				TopologyKey:       v1.LabelTopologyZone,
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": team}},
			}}}}
		}
		withTerm := func(name, team string) *v1.Pod {
			p := pausePod(name).Obj()
			p.Spec.Affinity = term(team)
			return p
		}
		near := e.createPod(withTerm("near-shared", "x"))
		if node := e.waitBound(near, 30*time.Second); zoneOf(node) != "zone-a" {
			t.Errorf("pod selecting team=x namespaces on %s, want zone-a", node)
		}
		elsewhere := e.createPod(withTerm("near-team-y", "y"))
		msg := e.waitFailedScheduling(elsewhere, 30*time.Second)
		if !strings.Contains(msg, "didn't match pod affinity rules") {
			t.Errorf("pod selecting team=y namespaces: FailedScheduling %q", msg)
		}
		// Relabelling the namespace requeues the pending pod at once (a
		// namespace event, not the periodic flush).
		ns.Labels["team"] = "y"
		if _, err := e.cs.CoreV1().Namespaces().Update(e.ctx, ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if node := e.waitBound(elsewhere, 15*time.Second); zoneOf(node) != "zone-a" {
			t.Errorf("after relabelling, pod selecting team=y namespaces on %s, want zone-a", node)
		}
	})
}

func zoneOf(node string) string {
	for _, n := range fixtures.Nodes() {
		if n.Name == node {
			return n.Labels[fixtures.ZoneLabel]
		}
	}
	return ""
}
