package explain

import (
	"context"
	"reflect"
)

// StartedInformers builds and syncs the profile's scheduler and returns the
// types of the informers it started.
func StartedInformers(ctx context.Context, o Options) ([]reflect.Type, error) {
	c, err := newCluster(ctx, o, o.Config.Profiles)
	if err != nil {
		return nil, err
	}
	if err := c.sync(ctx, 0, nil); err != nil {
		return nil, err
	}
	var types []reflect.Type
	for typ := range c.factory.WaitForCacheSync(nil) {
		types = append(types, typ)
	}
	return types, nil
}

// JudgeWide has the session's drift judge every pod over the whole
// snapshot, the pod taken out of the cache, as it does pods with required
// affinity.
func JudgeWide(s *Session) { s.c.wideDrift = true }
