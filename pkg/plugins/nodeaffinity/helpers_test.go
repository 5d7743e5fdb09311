package nodeaffinity_test

import (
	"encoding/json"
	"sort"
)

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func plugintestSorted(s []string) []string {
	sort.Strings(s)
	return s
}
