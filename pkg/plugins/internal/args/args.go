// Package args decodes out-of-tree plugin arguments strictly. The scheduler
// hands arguments it has no Go type for over as raw JSON or YAML; silently
// dropping a misspelt field would leave an operator's intent unenforced, so any
// field the target type does not know is an error that names it.
package args

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Decode fills into from obj. A nil obj, or one without content, leaves into
// untouched so that defaults set by the caller survive.
func Decode(plugin string, obj runtime.Object, into any) error {
	if obj == nil {
		return nil
	}
	raw, ok := obj.(*runtime.Unknown)
	if !ok {
		return fmt.Errorf("%s: args of type %T are not supported, want raw JSON or YAML", plugin, obj)
	}
	if len(raw.Raw) == 0 {
		return nil
	}
	data := raw.Raw
	switch raw.ContentType {
	case runtime.ContentTypeJSON, "":
	case runtime.ContentTypeYAML:
		var err error
		if data, err = yaml.YAMLToJSON(raw.Raw); err != nil {
			return fmt.Errorf("%s: args are not valid YAML: %w", plugin, err)
		}
	default:
		return fmt.Errorf("%s: args have unsupported content type %q", plugin, raw.ContentType)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, into)
	if err != nil {
		return fmt.Errorf("%s: decoding args: %w", plugin, err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("%s: args: %w", plugin, errors.Join(strictErrs...))
	}
	return nil
}
