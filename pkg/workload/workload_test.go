package workload_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/kube-placement/placement-scheduler/pkg/workload"
)

const (
	deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      schedulerName: placement-scheduler
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
	statefulSetYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
	jobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  parallelism: 4
  completions: 8
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
	cronJobYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
	podYAML = `apiVersion: v1
kind: Pod
metadata: {generateName: one-}
spec:
  containers: [{name: app, image: registry.k8s.io/pause:3.10, resources: {limits: {cpu: "1"}}}]
`
	rcYAML = `apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "all.yaml", strings.Join([]string{deploymentYAML, statefulSetYAML, jobYAML, cronJobYAML, podYAML, rcYAML}, "---\n"))
	got, err := workload.Read(workload.Options{Filenames: []string{file}, Namespace: "shop", Replicas: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind, namespace, name string
		replicas              int
		firstPod              string
		labels                map[string]string
	}{
		{"Deployment", "shop", "web", 3, "", map[string]string{"app": "web"}},
		{"StatefulSet", "data", "db", 2, "db-0", map[string]string{"app": "db", appsv1.StatefulSetPodNameLabel: "db-0", appsv1.PodIndexLabel: "0"}},
		{"Job", "shop", "batch", 4, "batch-0", map[string]string{batchv1.JobNameLabel: "batch", batchv1.JobCompletionIndexAnnotation: "0"}},
		{"CronJob", "shop", "nightly", 1, "nightly-run-0", map[string]string{batchv1.JobNameLabel: "nightly-run"}},
		{"Pod", "shop", "one-simulated", 1, "one-simulated", nil},
		{"ReplicationController", "shop", "legacy", 2, "legacy-0", map[string]string{"app": "legacy"}},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d workloads, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Namespace != w.namespace || g.Name != w.name || g.Replicas != w.replicas {
			t.Errorf("workload %d: %s %s/%s ×%d, want %s %s/%s ×%d", i, g.Kind, g.Namespace, g.Name, g.Replicas, w.kind, w.namespace, w.name, w.replicas)
		}
		p := g.Pod(0)
		if w.firstPod != "" && p.Name != w.firstPod {
			t.Errorf("%s: first pod %s, want %s", g, p.Name, w.firstPod)
		}
		if p.Namespace != w.namespace || p.UID == "" || p.UID == g.Pod(1).UID {
			t.Errorf("%s: pod %s/%s uid %q (next %q)", g, p.Namespace, p.Name, p.UID, g.Pod(1).UID)
		}
		for k, v := range w.labels {
			if p.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q (labels %v)", g, k, p.Labels[k], v, p.Labels)
			}
		}
	}
	// Defaults the API server applies: the scheduler name, and requests
	// from limits.
	if p := got[4].Pod(0); p.Spec.SchedulerName != "default-scheduler" || p.Spec.Containers[0].Resources.Requests.Cpu().String() != "1" {
		t.Errorf("pod not defaulted: schedulerName %q, requests %v", p.Spec.SchedulerName, p.Spec.Containers[0].Resources.Requests)
	}
	// The Deployment's pods carry the template hash its controller adds.
	if p := got[0].Pod(2); p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == "" || !strings.HasPrefix(p.Name, "web-") || !strings.HasSuffix(p.Name, "-2") {
		t.Errorf("deployment pod %s labels %v", p.Name, p.Labels)
	}
}

func TestReadReplicasAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", deploymentYAML)
	write(t, dir, "b.yaml", statefulSetYAML)
	got, err := workload.Read(workload.Options{Filenames: []string{dir}, Namespace: "default", Replicas: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Replicas != 7 || got[1].Replicas != 7 {
		t.Fatalf("got %d workloads %v, want 2 with 7 replicas each", len(got), got)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		o             workload.Options
		want          []string
	}{
		{"unsupported kind", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n", workload.Options{Replicas: -1},
			[]string{"v1 Service is not supported", "apps/v1 Deployment", "batch/v1 CronJob"}},
		{"invalid template", strings.Replace(deploymentYAML, "image: registry.k8s.io/pause:3.10", "image: ''", 1), workload.Options{Replicas: -1},
			[]string{"spec.template.spec.containers[0].image", "Required value"}},
		{"selector does not match", strings.Replace(deploymentYAML, "labels: {app: web}", "labels: {app: other}", 1), workload.Options{Replicas: -1},
			[]string{"spec.template.metadata.labels", "does not match"}},
		{"unknown field", strings.Replace(deploymentYAML, "replicas: 3", "replicas: 3\n  replica: 4", 1), workload.Options{Replicas: -1},
			[]string{`unknown field "spec.replica"`}},
		{"empty file", "", workload.Options{Replicas: -1}, []string{"no objects in"}},
		{"absurd replicas", deploymentYAML, workload.Options{Replicas: workload.MaxReplicas + 1}, []string{"replicas 100001: at most 100000"}},
		{"other namespace with -n", statefulSetYAML, workload.Options{Replicas: -1, EnforceNamespace: true}, []string{"namespace"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Filenames = []string{write(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.content)}
			if tc.o.Namespace == "" {
				tc.o.Namespace = "default"
			}
			got, err := workload.Read(tc.o)
			if err == nil {
				t.Fatalf("read %d workloads, want an error", len(got))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
