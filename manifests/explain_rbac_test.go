package manifests_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/kube-placement/placement-scheduler/manifests"
	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// TestExplainRoleIsReadOnlyAndSufficient: the explain ClusterRole grants list
// and watch on everything explain.Watched names (itself checked against the
// informers the scheduler starts), list on what explain.Listed names, and
// no verb that changes anything.
func TestExplainRoleIsReadOnlyAndSufficient(t *testing.T) {
	granted := map[string]bool{}
	reader := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests.ExplainRBAC), 4096)
	for {
		var role rbacv1.ClusterRole // Roles decode the same way.
		if err := reader.Decode(&role); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if role.Kind != "ClusterRole" && role.Kind != "Role" {
			continue
		}
		for _, rule := range role.Rules {
			for _, verb := range rule.Verbs {
				if verb != "get" && verb != "list" && verb != "watch" {
					t.Errorf("%s %s grants %q on %v: explain only reads", role.Kind, role.Name, verb, rule.Resources)
				}
				if role.Kind != "ClusterRole" {
					continue
				}
				for _, g := range rule.APIGroups {
					for _, r := range rule.Resources {
						granted[verb+" "+explain.Resource{Group: g, Resource: r}.String()] = true
					}
				}
			}
		}
	}
	for _, r := range explain.Watched {
		for _, verb := range []string{"list", "watch"} {
			if !granted[verb+" "+r.String()] {
				t.Errorf("ClusterRole placement-scheduler-explain does not grant %s %s", verb, r)
			}
		}
	}
	for _, r := range explain.Listed {
		if !granted["list "+r.String()] {
			t.Errorf("ClusterRole placement-scheduler-explain does not grant list %s", r)
		}
	}
	if !granted["get pods"] {
		t.Errorf("ClusterRole placement-scheduler-explain does not grant get pods")
	}
}
