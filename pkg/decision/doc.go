// Package decision records why the scheduler placed each pod where it did,
// from the scheduling cycle itself: the Recorder observes a profile's cycles
// without changing them, and a Writer stores one PlacementDecision per pod in
// the pod's namespace, in the background, bounded in queue, age and count.
//
// docs/design.md says why the records are a custom resource; docs/install.md
// what they hold.
package decision
