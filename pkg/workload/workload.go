// Package workload reads manifests of Pods and of the controllers that create
// them (Deployments, ReplicaSets, StatefulSets, Jobs, CronJobs,
// ReplicationControllers), validates each as the API server would on create,
// and returns the pods each would create, named and labelled as its
// controller would name and label them.
package workload

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"  // apps/v1 defaults and conversions
	_ "k8s.io/kubernetes/pkg/apis/batch/install" // batch/v1 defaults and conversions
	_ "k8s.io/kubernetes/pkg/apis/core/install"  // v1 defaults and conversions
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/apps/replicaset"
	"k8s.io/kubernetes/pkg/registry/apps/statefulset"
	"k8s.io/kubernetes/pkg/registry/batch/cronjob"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/core/pod"
	"k8s.io/kubernetes/pkg/registry/core/replicationcontroller"
)

// MaxReplicas bounds the pods one workload may ask for: far above any real
// rollout, low enough that a typo cannot exhaust memory.
const MaxReplicas = 100000

// Workload is one manifest's object and the pods it would create.
type Workload struct {
	// Kind, Namespace and Name name the object as written (after defaults).
	Kind, Namespace, Name string
	// Source is the file the object came from.
	Source string
	// Replicas is how many pods it runs at once: spec.replicas, a Job's
	// spec.parallelism, 1 for a Pod.
	Replicas int
	// Object is the validated, defaulted object (apps/v1, batch/v1 or v1).
	Object runtime.Object

	template v1.PodTemplateSpec
	// podName names the i-th pod.
	podName func(i int) string
	// podLabels adds the labels the controller gives the i-th pod.
	podLabels func(i int, labels map[string]string)
}

// String is kind/name, as kubectl names objects.
func (w *Workload) String() string {
	return strings.ToLower(w.Kind) + "/" + w.Name
}

// Pod returns the i-th pod the workload would create, pending, with a UID
// of its own.
func (w *Workload) Pod(i int) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: *w.template.ObjectMeta.DeepCopy(),
		Spec:       *w.template.Spec.DeepCopy(),
	}
	p.Namespace = w.Namespace
	p.Name = w.podName(i)
	p.GenerateName = ""
	p.UID = types.UID(fmt.Sprintf("simulated-%s-%s-%s-%d", strings.ToLower(w.Kind), w.Namespace, w.Name, i))
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if w.podLabels != nil {
		w.podLabels(i, p.Labels)
	}
	return p
}

// kind is what we know of one supported kind: its typed external object,
// its internal one, and the API server's create strategy.
type kind struct {
	newExternal func() runtime.Object
	newInternal func() runtime.Object
	strategy    rest.RESTCreateStrategy
	// resource is the kind's resource, for the request the strategy sees.
	resource schema.GroupVersionResource
	// describe fills in the workload from the defaulted, validated object.
	describe func(w *Workload, obj runtime.Object)
}

var kinds = map[schema.GroupVersionKind]kind{
	v1.SchemeGroupVersion.WithKind("Pod"): {
		resource:    v1.SchemeGroupVersion.WithResource("pods"),
		newExternal: func() runtime.Object { return &v1.Pod{} },
		newInternal: internal("", "Pod"),
		strategy:    pod.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			p := obj.(*v1.Pod)
			w.Replicas = 1
			w.template = v1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
			// Copies beyond the first (Options.Replicas) need names of their own.
			w.podName = func(i int) string {
				if i == 0 {
					return p.Name
				}
				return fmt.Sprintf("%s-%d", p.Name, i)
			}
		},
	},
	appsv1.SchemeGroupVersion.WithKind("Deployment"): {
		resource:    appsv1.SchemeGroupVersion.WithResource("deployments"),
		newExternal: func() runtime.Object { return &appsv1.Deployment{} },
		newInternal: internal(appsv1.GroupName, "Deployment"),
		strategy:    deployment.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			d := obj.(*appsv1.Deployment)
			w.Replicas = int(*d.Spec.Replicas)
			w.template = d.Spec.Template
			hash := templateHash(&d.Spec.Template)
			w.podName = func(i int) string { return fmt.Sprintf("%s-%s-%d", d.Name, hash, i) }
			w.podLabels = func(_ int, l map[string]string) { l[appsv1.DefaultDeploymentUniqueLabelKey] = hash }
		},
	},
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"): {
		resource:    appsv1.SchemeGroupVersion.WithResource("replicasets"),
		newExternal: func() runtime.Object { return &appsv1.ReplicaSet{} },
		newInternal: internal(appsv1.GroupName, "ReplicaSet"),
		strategy:    replicaset.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			rs := obj.(*appsv1.ReplicaSet)
			w.Replicas = int(*rs.Spec.Replicas)
			w.template = rs.Spec.Template
			w.podName = func(i int) string { return fmt.Sprintf("%s-%d", rs.Name, i) }
		},
	},
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"): {
		resource:    appsv1.SchemeGroupVersion.WithResource("statefulsets"),
		newExternal: func() runtime.Object { return &appsv1.StatefulSet{} },
		newInternal: internal(appsv1.GroupName, "StatefulSet"),
		strategy:    statefulset.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			ss := obj.(*appsv1.StatefulSet)
			w.Replicas = int(*ss.Spec.Replicas)
			w.template = ss.Spec.Template
			start := 0
			if ss.Spec.Ordinals != nil {
				start = int(ss.Spec.Ordinals.Start)
			}
			w.podName = func(i int) string { return fmt.Sprintf("%s-%d", ss.Name, start+i) }
			w.podLabels = func(i int, l map[string]string) {
				l[appsv1.StatefulSetPodNameLabel] = fmt.Sprintf("%s-%d", ss.Name, start+i)
				l[appsv1.PodIndexLabel] = fmt.Sprint(start + i)
			}
		},
	},
	v1.SchemeGroupVersion.WithKind("ReplicationController"): {
		resource:    v1.SchemeGroupVersion.WithResource("replicationcontrollers"),
		newExternal: func() runtime.Object { return &v1.ReplicationController{} },
		newInternal: internal("", "ReplicationController"),
		strategy:    replicationcontroller.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			rc := obj.(*v1.ReplicationController)
			w.Replicas = int(*rc.Spec.Replicas)
			w.template = *rc.Spec.Template
			w.podName = func(i int) string { return fmt.Sprintf("%s-%d", rc.Name, i) }
		},
	},
	batchv1.SchemeGroupVersion.WithKind("Job"): jobKind,
	batchv1.SchemeGroupVersion.WithKind("CronJob"): {
		resource:    batchv1.SchemeGroupVersion.WithResource("cronjobs"),
		newExternal: func() runtime.Object { return &batchv1.CronJob{} },
		newInternal: internal(batchv1.GroupName, "CronJob"),
		strategy:    cronjob.Strategy,
		describe: func(w *Workload, obj runtime.Object) {
			cj := obj.(*batchv1.CronJob)
			spec := cj.Spec.JobTemplate.Spec.DeepCopy()
			// The Job a run creates: its selector and labels come from the
			// Job's own create strategy, as for a Job manifest.
			j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: cj.Name + "-run", Namespace: cj.Namespace}, Spec: *spec}
			if err := prepare(jobKind, j); err == nil {
				spec = &j.Spec
			}
			describeJob(w, j.Name, spec)
		},
	},
}

var jobKind = kind{
	resource:    batchv1.SchemeGroupVersion.WithResource("jobs"),
	newExternal: func() runtime.Object { return &batchv1.Job{} },
	newInternal: internal(batchv1.GroupName, "Job"),
	strategy:    job.Strategy,
	describe: func(w *Workload, obj runtime.Object) {
		j := obj.(*batchv1.Job)
		describeJob(w, j.Name, &j.Spec)
	},
}

// describeJob: a Job runs spec.parallelism pods at once; an Indexed Job
// gives each its completion index.
func describeJob(w *Workload, name string, spec *batchv1.JobSpec) {
	w.Replicas = int(*spec.Parallelism)
	w.template = spec.Template
	w.podName = func(i int) string { return fmt.Sprintf("%s-%d", name, i) }
	if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion {
		w.podLabels = func(i int, l map[string]string) { l[batchv1.JobCompletionIndexAnnotation] = fmt.Sprint(i) }
	}
}

// internal makes the internal (unversioned) object of a kind of group ("" for
// core), which the API server's strategies take.
func internal(group, kind string) func() runtime.Object {
	return func() runtime.Object {
		obj, err := legacyscheme.Scheme.New(schema.GroupVersionKind{Group: group, Version: runtime.APIVersionInternal, Kind: kind})
		if err != nil {
			panic(err) // the install imports above register every kind listed
		}
		return obj
	}
}

// SupportedKinds lists the kinds Read accepts, as apiVersion/kind.
func SupportedKinds() []string {
	var out []string
	for gvk := range kinds {
		out = append(out, gvk.GroupVersion().String()+" "+gvk.Kind)
	}
	sort.Strings(out)
	return out
}

// ErrNoFilenames is Read's error for Options without Filenames.
var ErrNoFilenames = errors.New("no manifests to read: Filenames is empty")

// Options say what to read.
type Options struct {
	// Filenames are files, directories or "-" for standard input, as
	// kubectl's -f.
	Filenames []string
	// Recursive descends into directories, as kubectl's -R.
	Recursive bool
	// Namespace is given to objects that name none.
	Namespace string
	// EnforceNamespace rejects objects naming another namespace (kubectl's
	// behaviour when -n is given explicitly).
	EnforceNamespace bool
	// Replicas, when at least 0, replaces every workload's replica count.
	Replicas int
}

// Read reads every object in the files, in order, and returns a workload for
// each. Any object that is not a supported kind, does not decode strictly or
// would fail the API server's validation is an error naming the file and the
// field; Read returns no workload when any object is bad.
func Read(o Options) ([]*Workload, error) {
	if o.Replicas > MaxReplicas {
		return nil, fmt.Errorf("replicas %d: at most %d", o.Replicas, MaxReplicas)
	}
	if len(o.Filenames) == 0 {
		return nil, ErrNoFilenames
	}
	infos, err := resource.NewLocalBuilder().
		Unstructured().
		ContinueOnError().
		NamespaceParam(o.Namespace).DefaultNamespace().
		FilenameParam(o.EnforceNamespace, &resource.FilenameOptions{Filenames: o.Filenames, Recursive: o.Recursive}).
		Flatten().
		Do().Infos()
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("no objects in %s", strings.Join(o.Filenames, ", "))
	}
	var out []*Workload
	var errs []error
	for _, info := range infos {
		w, err := fromInfo(info, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", info.Source, err))
			continue
		}
		out = append(out, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func fromInfo(info *resource.Info, o Options) (*Workload, error) {
	u, ok := info.Object.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", info.Object)
	}
	gvk := u.GroupVersionKind()
	k, ok := kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("%s %s is not supported; simulate takes %s", gvk.GroupVersion(), gvk.Kind, strings.Join(SupportedKinds(), ", "))
	}
	if u.GetNamespace() == "" {
		u.SetNamespace(o.Namespace)
	}
	obj := k.newExternal()
	// Strict, as kubectl's default --validate=strict: an unknown or
	// duplicated field is an error, not a silent loss.
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	if err := prepare(k, obj); err != nil {
		return nil, err
	}
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	w := &Workload{Kind: gvk.Kind, Namespace: m.GetNamespace(), Name: m.GetName(), Source: info.Source, Object: obj}
	k.describe(w, obj)
	if o.Replicas >= 0 {
		w.Replicas = o.Replicas
	}
	return w, nil
}

// prepare defaults obj and runs the API server's create strategy over it:
// PrepareForCreate (which, for a Job, generates its selector and labels) and
// validation. obj is updated in place.
func prepare(k kind, obj runtime.Object) error {
	legacyscheme.Scheme.Default(obj)
	in := k.newInternal()
	if err := legacyscheme.Scheme.Convert(obj, in, nil); err != nil {
		return err
	}
	meta, err := metaOf(in)
	if err != nil {
		return err
	}
	if meta.GetName() == "" && meta.GetGenerateName() != "" {
		meta.SetName(meta.GetGenerateName() + "simulated")
	}
	rest.FillObjectMetaSystemFields(meta)
	ctx := genericapirequest.WithNamespace(context.Background(), meta.GetNamespace())
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "create",
		APIGroup: k.resource.Group, APIVersion: k.resource.Version, Resource: k.resource.Resource,
		Namespace: meta.GetNamespace(), Name: meta.GetName(),
	})
	if err := rest.BeforeCreate(k.strategy, ctx, in); err != nil {
		return err
	}
	out := k.newExternal()
	if err := legacyscheme.Scheme.Convert(in, out, nil); err != nil {
		return err
	}
	// Keep what the strategy set (a Job's selector and labels) and drop
	// what the server would have invented (uid, creation time).
	outMeta, _ := metaOf(out)
	outMeta.SetUID("")
	outMeta.SetCreationTimestamp(metav1.Time{})
	return legacyscheme.Scheme.Convert(out, obj, nil)
}

// templateHash is the pod-template-hash label the Deployment controller
// gives the ReplicaSet and pods of this template.
func templateHash(t *v1.PodTemplateSpec) string {
	return controller.ComputeHash(t, nil)
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	a, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return a, nil
}
