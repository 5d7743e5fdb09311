// Package manifests embeds the deployable files, so the sandbox and the tests
// use exactly what operators deploy rather than a copy of it.
package manifests

import (
	"embed"
	_ "embed"
)

// SchedulerConfig is the KubeSchedulerConfiguration the Deployment mounts.
//
//go:embed scheduler-config.yaml
var SchedulerConfig []byte

// Examples holds examples/*.yaml: one file per placement feature.
//
//go:embed examples/*.yaml
var Examples embed.FS

// ExplainRBAC holds the read-only roles of `kubectl placement explain`.
//
//go:embed explain-rbac.yaml
var ExplainRBAC []byte

// EvictRBAC holds the optional role of `kubectl placement drift --evict`:
// create pods/eviction, bound to the group placement-scheduler:evictors.
//
//go:embed evict-rbac.yaml
var EvictRBAC []byte

// CRDs holds the custom resources the scheduler writes, two YAML documents:
// PlacementDecision and PlacementDecisionBatch.
//
//go:embed crds/placementdecisions.yaml
var CRDs []byte
