package kubectlplacement

import (
	"errors"
	"fmt"

	"github.com/kube-placement/placement-scheduler/pkg/explain"
)

// roleHint says which role grants what kubectl placement reads: the same
// rules installed by either path.
const roleHint = "kubectl placement needs the read-only explainers' roles: the ClusterRole and Role " +
	"placement-scheduler-explain (kustomize base) or RELEASE-explain (Helm chart, explain.enabled), " +
	"both bound to the group placement-scheduler:explainers (chart value explain.group); " +
	"add yourself to that group or bind the roles to your user"

// withRoleHint adds roleHint to an error that a missing permission caused
// or may have caused (informers retry a refused list until the timeout).
func withRoleHint(err error) error {
	var access *explain.AccessError
	var timeout *explain.SyncTimeoutError
	var request *explain.RequestError
	if errors.As(err, &access) || errors.As(err, &timeout) || errors.As(err, &request) && request.Forbidden() {
		return fmt.Errorf("%w\n%s", err, roleHint)
	}
	return err
}
