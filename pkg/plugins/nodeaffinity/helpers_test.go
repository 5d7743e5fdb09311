package nodeaffinity_test

import (
	"encoding/json"
	"sort"

	"k8s.io/apimachinery/pkg/util/sets"
)

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(s sets.Set[string]) []string {
	out := s.UnsortedList()
	sort.Strings(out)
	return out
}
