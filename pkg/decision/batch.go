package decision

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// DecisionBatch is the records of pods of one namespace, written together.
// Each record is as a PlacementDecision would hold it (metadata: the pod's
// UID as name, and its labels).
//
// The records are stored packed: one gzip-compressed JSON array in a single
// string. The API server's work for a write grows with the number of JSON
// values it decodes, prunes, validates and stores; packed, a hundred records
// are one value to it, and a fifth of their size in etcd
// (docs/decisions.md, "What it costs"). Count and Newest stay readable, for
// collection and kubectl's columns.
type DecisionBatch struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// Profile is the scheduler profile whose writer wrote the batch.
	Profile string `json:"profile"`
	// Count is the number of records; Newest the decision time of the
	// newest.
	Count  int               `json:"count,omitempty"`
	Newest *metav1.MicroTime `json:"newest,omitempty"`
	// Packed is the records as written: see packBatch.
	Packed []byte `json:"packed,omitempty"`
	// Decisions are the records, once read (unpacked); batches written by
	// earlier releases store them here unpacked.
	Decisions []Decision `json:"decisions,omitempty"`
}

// maxUnpacked bounds a batch's records once decompressed: a hundred records
// take about 100 KB, and a batch is an object anyone who may create one in
// the namespace could write.
const maxUnpacked = 16 << 20

// packBatch makes the batch of namespace's records ds: their JSON array,
// each record without what the batch says once for all (kind, namespace,
// profile; see inBatch), gzip-compressed.
func packBatch(namespace, profile string, ds []*Decision) (*DecisionBatch, error) {
	b := &DecisionBatch{
		TypeMeta:   metav1.TypeMeta{APIVersion: Group + "/" + Version, Kind: BatchKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: batchPrefix},
		Profile:    profile,
		Count:      len(ds),
	}
	records := make([]Decision, 0, len(ds))
	for _, d := range ds {
		records = append(records, inBatch(d))
		if b.Newest == nil || d.Time.After(b.Newest.Time) {
			b.Newest = d.Time.DeepCopy()
		}
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(records); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b.Packed = buf.Bytes()
	return b, nil
}

// inBatch is d as a batch holds it: without what the batch says once for
// all its records (kind, namespace, profile), which unpack puts back.
func inBatch(d *Decision) Decision {
	out := *d
	out.TypeMeta = metav1.TypeMeta{}
	out.Namespace = ""
	out.Profile = ""
	return out
}

// BatchFromUnstructured converts a PlacementDecisionBatch read with a
// dynamic client, its records unpacked (Decisions).
func BatchFromUnstructured(u *unstructured.Unstructured) (*DecisionBatch, error) {
	b, err := batchHeader(u)
	if err != nil {
		return nil, err
	}
	if err := b.unpack(); err != nil {
		return nil, fmt.Errorf("PlacementDecisionBatch %s/%s: %w", b.Namespace, b.Name, err)
	}
	return b, nil
}

// batchHeader converts a batch without unpacking its records.
func batchHeader(u *unstructured.Unstructured) (*DecisionBatch, error) {
	var b DecisionBatch
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// unpack decompresses the packed records into Decisions, and gives every
// record the kind of a record and the batch's namespace and profile.
func (b *DecisionBatch) unpack() error {
	if len(b.Packed) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(b.Packed))
		if err != nil {
			return fmt.Errorf("packed: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(zr, maxUnpacked+1))
		if err != nil {
			return fmt.Errorf("packed: %w", err)
		}
		if len(data) > maxUnpacked {
			return fmt.Errorf("packed: more than %d bytes of records", maxUnpacked)
		}
		if err := json.Unmarshal(data, &b.Decisions); err != nil {
			return fmt.Errorf("packed: %w", err)
		}
		b.Packed = nil
	}
	for i := range b.Decisions {
		d := &b.Decisions[i]
		d.APIVersion, d.Kind = Group+"/"+Version, Kind
		d.Namespace = b.Namespace
		if d.Profile == "" {
			d.Profile = b.Profile
		}
	}
	return nil
}

// stored is how collection sees the batch. Batches written by earlier
// releases lack Count and Newest: their records say.
func (b *DecisionBatch) stored() Stored {
	st := Stored{Namespace: b.Namespace, Name: b.Name, Batch: true, Records: b.Count}
	if b.Newest != nil {
		st.Newest = b.Newest.Time
	}
	if len(b.Packed) > 0 {
		return st
	}
	st.Records = len(b.Decisions)
	for _, d := range b.Decisions {
		if d.Time.After(st.Newest) {
			st.Newest = d.Time.Time
		}
	}
	return st
}
