package main

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

func TestCountPods(t *testing.T) {
	unsched := v1.Pod{Status: v1.PodStatus{Conditions: []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable}}}}
	pods := []v1.Pod{{Spec: v1.PodSpec{NodeName: "n"}}, unsched, {}, {}}
	if got, want := countPods(pods), (podCounts{total: 4, bound: 1, unschedulable: 1, unsettled: 2}); got != want {
		t.Errorf("countPods = %+v, want %+v", got, want)
	}
}

func TestReportSplitsTheFirstHour(t *testing.T) {
	r := &result{o: options{duration: 2 * time.Hour}}
	for m, rss := range []int64{10, 50, 40, 45} {
		r.add(sample{at: time.Duration(m) * 40 * time.Minute, rss: rss << 20, heapInuse: -1, goroutines: 7})
	}
	rss := allSeries[0]
	first, after := r.halves(rss)
	if first != (span{10 << 20, 50 << 20}) || after != (span{40 << 20, 45 << 20}) {
		t.Errorf("halves = %+v, %+v; want 10–50 MiB in the first hour, 40–45 after", first, after)
	}
	md := r.markdown()
	for _, want := range []string{"| Resident set (RSS) | 50.0 MiB | 40.0 MiB – 45.0 MiB | 45.0 MiB |", "| Go heap in use | – | – – – | – |", "line [10.0, 50.0, 40.0, 45.0]"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "```mermaid") != len(allSeries)-1 {
		t.Errorf("want a chart for every series with samples (not the heap):\n%s", md)
	}
}
