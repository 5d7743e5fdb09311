package plugins

import "k8s.io/kubernetes/cmd/kube-scheduler/app"

// SchedulerOptions registers every plugin of ours with the upstream
// kube-scheduler command or its Setup function.
func SchedulerOptions() []app.Option {
	var opts []app.Option
	for name, factory := range Registry() {
		opts = append(opts, app.WithPlugin(name, factory))
	}
	return opts
}
