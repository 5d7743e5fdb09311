package schedulerprocess

import "testing"

func TestGauges(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 276
# HELP placement_podaffinity_index_views [ALPHA] Views PlacementPodAffinity keeps across scheduling cycles.
# TYPE placement_podaffinity_index_views gauge
placement_podaffinity_index_views 29
# TYPE placement_decision_records_queued gauge
placement_decision_records_queued{profile="a"} 3
placement_decision_records_queued{profile="b"} 4
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.001
go_gc_duration_seconds_sum 0.5
go_gc_duration_seconds_count 42
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="x",method="GET"} 12
`
	got, err := Gauges(text, "go_goroutines", "placement_podaffinity_index_views", "placement_decision_records_queued",
		"rest_client_requests_total", "placement_podaffinity_index_entries", "go_gc_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"go_goroutines": 276, "placement_podaffinity_index_views": 29,
		"placement_decision_records_queued": 7, "rest_client_requests_total": 12, "placement_podaffinity_index_entries": -1,
		"go_gc_duration_seconds": 42}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if _, err := Gauges("go_goroutines{ 1\n", "go_goroutines"); err == nil {
		t.Error("a malformed exposition was read without an error")
	}
}
