// Package version reports what this binary is: our release and the Kubernetes
// release whose scheduler it is built on.
package version

import (
	"fmt"
	"runtime/debug"
)

// Version is this project's release, set at link time by the Makefile
// (-X github.com/kube-placement/placement-scheduler/pkg/version.Version=...).
var Version = "dev"

// Kubernetes returns the k8s.io/kubernetes module version linked into the binary.
func Kubernetes() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == "k8s.io/kubernetes" {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return "unknown"
}

// String is the one-line form printed by --version.
func String(binary string) string {
	return fmt.Sprintf("%s %s (Kubernetes %s)", binary, Version, Kubernetes())
}
