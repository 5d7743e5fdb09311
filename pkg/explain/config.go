package explain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"

	"github.com/kube-placement/placement-scheduler/pkg/plugins"
)

// DefaultDeployment is where manifests/ installs the scheduler.
const DefaultDeployment = "placement-scheduler/placement-scheduler"

// ParseConfig decodes, defaults and validates a KubeSchedulerConfiguration
// the way kube-scheduler does with its --config file, plus our own checks.
func ParseConfig(data []byte) (*config.KubeSchedulerConfiguration, error) {
	obj, gvk, err := scheme.Codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	cfg, ok := obj.(*config.KubeSchedulerConfiguration)
	if !ok {
		return nil, fmt.Errorf("not a KubeSchedulerConfiguration but %s", gvk)
	}
	cfg.TypeMeta.APIVersion = gvk.GroupVersion().String()
	if err := validation.ValidateKubeSchedulerConfiguration(cfg); err != nil {
		return nil, err
	}
	if _, err := plugins.CheckConfig(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ConfigFromFile reads a scheduler configuration file.
func ConfigFromFile(file string) (*config.KubeSchedulerConfiguration, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return cfg, nil
}

// ConfigFromDeployment reads the configuration a running scheduler uses: the
// file its --config flag names, from the ConfigMap volume mounted there. The
// ConfigMap name carries kustomize's hash suffix, so the Deployment is the
// only stable way to find it. It returns where the configuration came from.
func ConfigFromDeployment(ctx context.Context, cs kubernetes.Interface, ns, name string) (*config.KubeSchedulerConfiguration, string, error) {
	deploy, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, "", NewRequestError(err, "get", "deployments.apps", ns, name)
	}
	cmName, key, err := configMapOf(&deploy.Spec.Template.Spec)
	if err != nil {
		return nil, "", fmt.Errorf("deployment %s/%s: %w", ns, name, err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		return nil, "", NewRequestError(err, "get", "configmaps", ns, cmName)
	}
	data, ok := cm.Data[key]
	if !ok {
		return nil, "", fmt.Errorf("configmap %s/%s has no key %q", ns, cmName, key)
	}
	origin := fmt.Sprintf("configmap %s/%s, key %s", ns, cmName, key)
	cfg, err := ParseConfig([]byte(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", origin, err)
	}
	return cfg, origin, nil
}

// configMapOf finds the ConfigMap and key behind the --config flag of the
// pod's first container that has one.
func configMapOf(spec *v1.PodSpec) (name, key string, err error) {
	for _, c := range spec.Containers {
		file := configFlag(append(append([]string{}, c.Command...), c.Args...))
		if file == "" {
			continue
		}
		for _, m := range c.VolumeMounts {
			rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
			if !ok {
				continue
			}
			if m.SubPath != "" {
				rel = path.Join(m.SubPath, rel)
			}
			return volumeConfigMap(spec.Volumes, m.Name, rel)
		}
		return "", "", fmt.Errorf("container %s: --config=%s is not on a mounted volume", c.Name, file)
	}
	return "", "", ErrNoConfigFlag
}

func configFlag(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func volumeConfigMap(volumes []v1.Volume, volume, file string) (name, key string, err error) {
	for _, v := range volumes {
		if v.Name != volume {
			continue
		}
		if v.ConfigMap == nil {
			return "", "", fmt.Errorf("volume %s holding the configuration is not a ConfigMap", volume)
		}
		key = file
		for _, item := range v.ConfigMap.Items {
			if item.Path == file {
				key = item.Key
			}
		}
		return v.ConfigMap.Name, key, nil
	}
	return "", "", fmt.Errorf("no volume %s", volume)
}

// Profile returns the profile named schedulerName.
func Profile(cfg *config.KubeSchedulerConfiguration, schedulerName string) (*config.KubeSchedulerProfile, error) {
	var names []string
	for i := range cfg.Profiles {
		if cfg.Profiles[i].SchedulerName == schedulerName {
			return &cfg.Profiles[i], nil
		}
		names = append(names, cfg.Profiles[i].SchedulerName)
	}
	return nil, &NoProfileError{Name: schedulerName, Profiles: names}
}

// ErrNoConfigFlag says that no container of the scheduler's Deployment
// passes --config, so its configuration cannot be found through the Deployment.
var ErrNoConfigFlag = errors.New("no container passes --config")

// NoProfileError says the configuration has no profile of that schedulerName.
type NoProfileError struct {
	Name     string
	Profiles []string
}

func (e *NoProfileError) Error() string {
	return fmt.Sprintf("no profile %q in the scheduler configuration (profiles: %s)", e.Name, strings.Join(e.Profiles, ", "))
}
