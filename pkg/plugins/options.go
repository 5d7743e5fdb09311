package plugins

import (
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// SchedulerOptions registers every plugin of ours with the upstream
// kube-scheduler command or its Setup function. A factory in replace takes
// the place of ours of the same name (tests wrap a plugin this way).
func SchedulerOptions(replace frameworkruntime.Registry) []app.Option {
	var opts []app.Option
	for name, factory := range Registry() {
		if r, ok := replace[name]; ok {
			factory = r
		}
		opts = append(opts, app.WithPlugin(name, factory))
	}
	return opts
}
