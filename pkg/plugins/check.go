package plugins

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodename"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/nodeselector"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/podaffinity"
	"github.com/kube-placement/placement-scheduler/pkg/plugins/tainttoleration"
)

// Twins maps each of our plugins to the in-tree plugin whose rule it
// implements. A profile running both applies the rule twice: filters agree,
// so nothing breaks, but the scores count double and every cycle pays twice.
var Twins = map[string]string{
	nodename.Name:        "NodeName",
	nodeselector.Name:    "NodeAffinity",
	nodeaffinity.Name:    "NodeAffinity",
	tainttoleration.Name: "TaintToleration",
	podaffinity.Name:     "InterPodAffinity",
}

// CheckConfig looks for mistakes the upstream validation lets through: a
// negative plugin weight (an error, naming the field) and a profile that
// enables one of our plugins beside its in-tree twin (a warning).
func CheckConfig(cfg *config.KubeSchedulerConfiguration) (warnings []string, err error) {
	var errs field.ErrorList
	for i, prof := range cfg.Profiles {
		path := field.NewPath("profiles").Index(i).Child("plugins")
		enabled := map[string]bool{}
		for _, set := range pluginSets(prof.Plugins) {
			for j, p := range set.plugins.Enabled {
				enabled[p.Name] = true
				if p.Weight < 0 {
					errs = append(errs, field.Invalid(path.Child(set.name, "enabled").Index(j).Child("weight"), p.Weight, "must not be negative"))
				}
			}
		}
		for ours, twin := range Twins {
			if enabled[ours] && enabled[twin] {
				warnings = append(warnings, fmt.Sprintf("profile %q enables both %s and the in-tree %s: the same rule runs twice and its score counts double; disable %s", prof.SchedulerName, ours, twin, twin))
			}
		}
	}
	sort.Strings(warnings)
	return warnings, errs.ToAggregate()
}

type namedSet struct {
	name    string
	plugins config.PluginSet
}

func pluginSets(p *config.Plugins) []namedSet {
	if p == nil {
		return nil
	}
	return []namedSet{
		{"multiPoint", p.MultiPoint}, {"preFilter", p.PreFilter}, {"filter", p.Filter},
		{"preScore", p.PreScore}, {"score", p.Score},
	}
}

// CheckConfigFile loads a KubeSchedulerConfiguration file as the scheduler
// will, logs CheckConfig's warnings and returns its error. Errors of loading
// itself are left for the scheduler to report, in its own words.
func CheckConfigFile(logger klog.Logger, path string) error {
	cfg, err := options.LoadConfigFromFile(logger, path)
	if err != nil {
		return nil
	}
	warnings, err := CheckConfig(cfg)
	for _, w := range warnings {
		logger.Info("Warning: "+w, "config", path)
	}
	if err != nil {
		return fmt.Errorf("invalid configuration %s: %w", path, err)
	}
	return nil
}
