/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package dashboard

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// shipped is the dashboard authstack ships.
func shipped(t *testing.T) *Dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "monitoring", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParse(t *testing.T) {
	d := shipped(t)
	rows, panels := 0, 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			rows++
			continue
		}
		panels++
		if p.GridPos.W == 0 || p.Unit() == "" || len(p.Targets) == 0 || p.Targets[0].RefID == "" || p.Targets[0].Expr == "" {
			t.Errorf("panel %d %q read as %+v", p.ID, p.Title, p)
		}
	}
	if rows != 3 || panels != 12 {
		t.Errorf("%d rows and %d panels, want 3 and 12", rows, panels)
	}
	ns, ok := d.Variable("namespace")
	if !ok || !ns.Multi || !ns.IncludeAll || ns.AllValue != ".*" || !strings.Contains(ns.QueryExpr(), "label_values(") {
		t.Errorf("namespace variable %+v", ns)
	}
	if ds, _ := d.Variable("datasource"); ds.QueryExpr() != "prometheus" {
		t.Errorf("datasource variable's query %q", ds.QueryExpr())
	}
	if first := d.Panels[1]; first.Targets[0].LegendFormat != "{{grant_type}} {{outcome}}" || !first.Stacked() {
		t.Errorf("first panel %+v", first)
	}
	for _, bad := range []string{`{"panels": [`, `{"title": "x"}`, `{"panels": [{"id": 1, "gridPos": {"x": 20, "y": 0, "w": 8, "h": 4}}]}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) took it", bad)
		}
	}
	collapsed := `{"panels": [{"id": 1, "type": "row", "title": "Tokens", "collapsed": true, "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1},
		"panels": [{"id": 2, "type": "timeseries", "gridPos": {"x": 0, "y": 1, "w": 12, "h": 8}}]}]}`
	if _, err := Parse([]byte(collapsed)); err == nil || !strings.Contains(err.Error(), `row 1 "Tokens" is collapsed`) {
		t.Errorf("Parse of a collapsed row: %v", err)
	}
}

func TestExpand(t *testing.T) {
	d := shipped(t)
	start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	hour := v1.Range{Start: start, End: start.Add(time.Hour), Step: 15 * time.Second}
	for _, c := range []struct {
		expr   string
		r      v1.Range
		vars   Vars
		want   string
		errors string // a substring of the error; "" for none
	}{
		{expr: `x{namespace=~"$namespace"}`, r: hour, want: `x{namespace=~".*"}`},
		{expr: `x{namespace=~"$namespace"}`, r: hour, vars: Vars{Values: map[string][]string{"namespace": nil}}, want: `x{namespace=~".*"}`},
		{expr: `x{namespace=~"$namespace"}`, r: hour, vars: Vars{Values: map[string][]string{"namespace": {"authstack"}}}, want: `x{namespace=~"authstack"}`},
		{expr: `x{namespace=~"${namespace}"}`, r: hour, vars: Vars{Values: map[string][]string{"namespace": {"a", "b"}}}, want: `x{namespace=~"(a|b)"}`},
		// Regular-expression metacharacters are escaped, for a PromQL string.
		{expr: `x{namespace=~"$namespace"}`, r: hour, vars: Vars{Values: map[string][]string{"namespace": {"a.b"}}}, want: `x{namespace=~"a\\.b"}`},
		// Grafana's rule: max(4 × scrape, interval + scrape).
		{expr: `rate(x[$__rate_interval])`, r: hour, vars: Vars{ScrapeInterval: 5 * time.Second}, want: `rate(x[20s])`},
		{expr: `rate(x[$__rate_interval])`, r: hour, vars: Vars{ScrapeInterval: time.Second}, want: `rate(x[16s])`},
		{expr: `rate(x[$__rate_interval])`, r: hour, want: `rate(x[1m])`}, // Grafana's default scrape interval, 15s
		{expr: `rate(x[$__rate_interval])`, r: v1.Range{Start: start, End: start.Add(time.Hour), Step: 2 * time.Minute}, want: `rate(x[2m15s])`},
		{expr: `increase(x[$__range])`, r: hour, want: `increase(x[3600s])`},
		{expr: `increase(x[$__range])`, r: v1.Range{Start: start, End: start.Add(3*time.Minute + 400*time.Millisecond), Step: time.Second}, want: `increase(x[180s])`},
		{expr: `avg_over_time(x[$__interval])`, r: hour, want: `avg_over_time(x[15s])`},
		{expr: `label_replace(x, "pod", "$1", "instance", "(.*):.*")`, r: hour, want: `label_replace(x, "pod", "$1", "instance", "(.*):.*")`},
		{expr: `x{a="$nosuch"}`, r: hour, errors: `"nosuch"`},
		{expr: `x{a="${namespace:csv}"}`, r: hour, errors: "formats are not supported"},
		{expr: `x{a="$datasource"}`, r: hour, errors: "data source variable"},
		{expr: `x{a="$namespace", b="$nosuch"}`, r: hour, errors: `"nosuch"`},
	} {
		got, err := d.Expand(c.expr, c.r, c.vars)
		switch {
		case c.errors == "" && (err != nil || got != c.want):
			t.Errorf("Expand(%q) = %q, %v; want %q", c.expr, got, err, c.want)
		case c.errors != "" && (err == nil || !strings.Contains(err.Error(), c.errors)):
			t.Errorf("Expand(%q) = %q, %v; want an error naming %s", c.expr, got, err, c.errors)
		}
	}
	// A variable that takes one value, or has no allValue.
	single := &Dashboard{}
	single.Templating.List = []Variable{{Name: "one", Type: "custom"}}
	if _, err := single.Expand(`$one`, hour, Vars{Values: map[string][]string{"one": {"a", "b"}}}); err == nil {
		t.Error("two values of a single-value variable")
	}
	if _, err := single.Expand(`$one`, hour, Vars{}); err == nil || !strings.Contains(err.Error(), "allValue") {
		t.Errorf("All of a variable without allValue: %v", err)
	}
	// Every query of the shipped dashboard expands completely.
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			got, err := d.Expand(tg.Expr, hour, Vars{Values: map[string][]string{"namespace": {"authstack"}}})
			if err != nil || strings.Contains(got, "$") {
				t.Errorf("panel %q query %s: %q, %v", p.Title, tg.RefID, got, err)
			}
		}
	}
}

func TestLegend(t *testing.T) {
	labels := model.Metric{"grant_type": "password", "outcome": "success", "pod": "authstack-0"}
	for _, c := range []struct {
		format string
		labels model.Metric
		want   string
	}{
		{"{{grant_type}} {{outcome}}", labels, "password success"},
		{"503 {{ pod }}", labels, "503 authstack-0"},
		{"tokens {{pod}}", model.Metric{}, "tokens"}, // a missing label is empty
		{"{{pod}}", model.Metric{}, ""},
		{"p99", labels, "p99"},
		{"", model.Metric{"a": "b"}, `{a="b"}`},
		{"__auto", model.Metric{}, "sum(x)"},
	} {
		if got := Legend(c.format, c.labels, "sum(x)"); got != c.want {
			t.Errorf("Legend(%q, %v) = %q, want %q", c.format, c.labels, got, c.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		unit string
		v    float64
		want string
	}{
		{"s", 0, "0 s"},
		{"s", 0.25, "250 ms"},
		{"s", 0.0123, "12.3 ms"},
		{"s", 0.0000123, "12.3 µs"},
		{"s", 1.5, "1.5 s"},
		{"s", 90, "1.5 min"},
		{"s", 7200, "2 hour"},
		{"s", 3 * 86400, "3 day"},
		{"s", 14 * 86400, "2 week"},
		{"ms", 1500, "1.5 s"},
		{"reqps", 12.345, "12.3 req/s"},
		{"reqps", 1500, "1.5K req/s"},
		{"ops", 0.5, "0.5 ops/s"},
		{"short", 300, "300"},
		{"short", 1234567, "1.23 Mil"},
		{"short", -2500, "-2.5 K"},
		{"bytes", 512, "512 B"},
		{"bytes", 1536, "1.5 KiB"},
		{"bytes", 3 << 30, "3 GiB"},
		{"decbytes", 1500, "1.5 kB"},
		{"percent", 42.5, "42.5%"},
		{"percentunit", 0.425, "42.5%"},
		{"none", 0.1 + 0.2, "0.3"},
		{"", 123456, "123456"},
		{"widgets", 2, "2 widgets"},
		{"s", math.NaN(), "NaN"},
		{"short", math.Inf(1), "+Inf"},
	} {
		if got := FormatValue(c.unit, c.v); got != c.want {
			t.Errorf("FormatValue(%q, %v) = %q, want %q", c.unit, c.v, got, c.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 10, []float64{0, 2.5, 5, 7.5, 10}},
		{0, 0.9, []float64{0, 0.25, 0.5, 0.75, 1}},
		{0, 0, []float64{0, 0.25, 0.5, 0.75, 1}},
		{-3, 7, []float64{-5, -2.5, 0, 2.5, 5, 7.5}},
	} {
		got := niceTicks(c.lo, c.hi, 4)
		if len(got) != len(c.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", c.lo, c.hi, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-9 {
				t.Errorf("niceTicks(%v, %v) = %v, want %v", c.lo, c.hi, got, c.want)
				break
			}
		}
	}
}

// Stacked series are drawn on the one below; a gap in a series (no sample
// for more than a step) breaks its line.
func TestStackAndGaps(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	a := colored{Series: Series{Points: []Point{{at(0), 1}, {at(1), 2}, {at(2), 3}}}}
	b := colored{Series: Series{Points: []Point{{at(0), 10}, {at(2), 10}, {at(3), math.NaN()}, {at(4), 10}}}}
	st := stackedTops([]colored{a, b}, true)
	if st[1].top[0].V != 11 || st[1].base[0].V != 1 || st[1].top[1].V != 13 || st[1].base[1].V != 3 {
		t.Errorf("stacked: %+v", st[1])
	}
	if flat := stackedTops([]colored{a, b}, false); flat[1].top[0].V != 10 || flat[1].base[0].V != 0 {
		t.Errorf("not stacked: %+v", flat[1])
	}
	segs := segments(b.Points, make([]Point, len(b.Points)), time.Second)
	if len(segs) != 3 {
		t.Errorf("segments of %v: %v, want 3 (a missing sample and a NaN break the line)", b.Points, segs)
	}
}

// A query error is drawn in its panel, and a panel without data says so.
func TestRenderErrorsAndNoData(t *testing.T) {
	d := shipped(t)
	start := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	r := v1.Range{Start: start, End: start.Add(time.Minute), Step: time.Second}
	var results []PanelResult
	for i := range d.Panels {
		if p := &d.Panels[i]; p.Type != "row" {
			pr := PanelResult{Panel: p}
			if p.ID == 2 {
				pr.Targets = []TargetResult{{Target: p.Targets[0], Err: errors.New("bad_data: parse error")}}
			}
			results = append(results, pr)
		}
	}
	var b strings.Builder
	if err := RenderSVG(&b, d, results, RenderOptions{Range: r, PrometheusVersion: "3.16.0"}); err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, b.String())
	if !strings.Contains(texts, "query error: bad_data: parse error") {
		t.Error("the query error is not drawn")
	}
	if n := strings.Count(texts, "No data"); n != 12 {
		t.Errorf("%d panels say No data, want 12", n)
	}
	if !strings.Contains(texts, "evaluated by Prometheus 3.16.0 over 2026-12-02 16:00:00 to 16:01:00 UTC") || !strings.Contains(texts, "not by Grafana") {
		t.Errorf("no footer in %q", texts)
	}
}
