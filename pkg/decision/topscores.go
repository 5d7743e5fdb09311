package decision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// TopScores are a record's top nodes. In JSON they name the score plugins
// once, and give each node its scores in that order:
//
//	{"plugins": ["NodeResourcesFit", "ImageLocality"],
//	 "nodes": [{"node": "node-a", "total": 142, "scores": [100, 42]}, ...]}
//
// The framework scores every node with the same plugins, so this holds the
// same as a list of {plugin, score} per node in under a third of the bytes
// and under half the JSON values, and the API server's work for a record goes
// with its values (docs/decisions.md, "What it costs"). A node
// whose plugins differ from the first node's (the framework never does
// that) lists its own "plugins". Records written before this encoding (a
// list of NodeScore) are read too.
type TopScores []NodeScore

// compactScores is the JSON form of TopScores.
type compactScores struct {
	Plugins []string       `json:"plugins"`
	Nodes   []compactScore `json:"nodes"`
}

type compactScore struct {
	Node   string  `json:"node"`
	Total  int64   `json:"total"`
	Scores []int64 `json:"scores"`
	// Plugins, when set, name this node's scores instead of the shared list.
	Plugins []string `json:"plugins,omitempty"`
}

// MarshalJSON writes the compact form.
func (t TopScores) MarshalJSON() ([]byte, error) {
	if len(t) == 0 {
		return []byte("null"), nil
	}
	out := compactScores{Plugins: pluginNames(t[0].Plugins), Nodes: make([]compactScore, len(t))}
	for i, n := range t {
		c := compactScore{Node: n.Node, Total: n.Total, Scores: make([]int64, len(n.Plugins))}
		for j, p := range n.Plugins {
			c.Scores[j] = p.Score
		}
		if names := pluginNames(n.Plugins); !slices.Equal(names, out.Plugins) {
			c.Plugins = names
		}
		out.Nodes[i] = c
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the compact form, or the list of NodeScore that
// records written before it hold.
func (t *TopScores) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*t = nil
		return nil
	case len(data) > 0 && data[0] == '[':
		var legacy []NodeScore
		if err := json.Unmarshal(data, &legacy); err != nil {
			return err
		}
		*t = legacy
		return nil
	}
	var in compactScores
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	out := make(TopScores, len(in.Nodes))
	for i, c := range in.Nodes {
		names := in.Plugins
		if c.Plugins != nil {
			names = c.Plugins
		}
		if len(c.Scores) != len(names) {
			return fmt.Errorf("scores.nodes[%d]: %d scores for %d plugins", i, len(c.Scores), len(names))
		}
		n := NodeScore{Node: c.Node, Total: c.Total}
		for j, s := range c.Scores {
			n.Plugins = append(n.Plugins, PluginScore{Plugin: names[j], Score: s})
		}
		out[i] = n
	}
	*t = out
	return nil
}

func pluginNames(ps []PluginScore) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Plugin
	}
	return names
}
