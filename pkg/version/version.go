// Package version reports what this binary is: our release and the Kubernetes
// release whose scheduler it is built on.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"

	componentversion "k8s.io/component-base/version"
)

// Version is this project's release and Commit the commit it was built
// from, set at link time by the Makefile from the VERSION file and git
// (-X github.com/kube-placement/placement-scheduler/pkg/version.Version=...).
var (
	Version = "dev"
	Commit  = ""
)

// Kubernetes returns the k8s.io/kubernetes module version linked into the
// binary. Where the build records no dependencies (test binaries of library
// packages), it falls back to the release the Makefile links into
// component-base, which it reads from go.mod too.
func Kubernetes() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				if dep.Replace != nil {
					return dep.Replace.Version
				}
				return dep.Version
			}
		}
	}
	if v := componentversion.Get().GitVersion; strings.HasPrefix(v, "v1.") {
		return v
	}
	return "unknown"
}

// String is the one-line form printed by --version.
func String(binary string) string {
	if Commit != "" {
		return fmt.Sprintf("%s %s (commit %s, Kubernetes %s)", binary, Version, Commit, Kubernetes())
	}
	return fmt.Sprintf("%s %s (Kubernetes %s)", binary, Version, Kubernetes())
}
