package decisions

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// FuzzParseArgs: any args document is either refused with an error or
// gives a configuration within the documented ranges; never a panic.
func FuzzParseArgs(f *testing.F) {
	for _, seed := range []string{``, `{}`, `{"topNodes": 3}`, `{"retention": "90m"}`, `{"maxRecords": -1}`, `{"queueSize": 1e99}`, `topNodes: 2`, `{"retention": "1h30m", "topNodes": 100}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseArgs(&runtime.Unknown{Raw: []byte(raw), ContentType: runtime.ContentTypeYAML})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseArgs(%q) accepted %+v: %v", raw, c, err)
		}
	})
}
