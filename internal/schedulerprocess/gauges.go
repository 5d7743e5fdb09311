package schedulerprocess

import (
	"fmt"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Gauges reads the named metrics from a Prometheus text exposition, each
// the sum of its series (a gauge labelled by profile sums over profiles; a
// summary counts its observations); a name that is absent is -1.
func Gauges(text string, names ...string) (map[string]int64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	out := map[string]int64{}
	for _, name := range names {
		out[name] = -1
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			sum += value(f.GetType(), m)
		}
		out[name] = int64(sum)
	}
	return out, nil
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_SUMMARY:
		return float64(m.GetSummary().GetSampleCount())
	default:
		return m.GetUntyped().GetValue()
	}
}
