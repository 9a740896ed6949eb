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
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PanelResult is what the queries of one panel returned.
type PanelResult struct {
	Panel   *Panel
	Targets []TargetResult
}

// TargetResult is what one query returned.
type TargetResult struct {
	Target Target
	// Expr is the query as sent: Target.Expr with its variables expanded.
	Expr     string
	Series   []Series
	Warnings []string
	// Err is the query's error (also part of Evaluate's error).
	Err error
}

// Series is one series of a query's answer.
type Series struct {
	// Name is the legend: the target's legendFormat rendered with the
	// series' labels.
	Name   string
	Labels model.Metric
	Points []Point
}

// Point is one sample of a series.
type Point struct {
	T time.Time
	V float64
}

// finite tells whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Finite counts the points of s that are neither NaN nor infinite (what
// Grafana draws).
func (s Series) Finite() int {
	n := 0
	for _, p := range s.Points {
		if finite(p.V) {
			n++
		}
	}
	return n
}

// Last is the last finite value of s (Grafana's lastNotNull), and whether
// there is one.
func (s Series) Last() (float64, bool) {
	for i := len(s.Points) - 1; i >= 0; i-- {
		if v := s.Points[i].V; finite(v) {
			return v, true
		}
	}
	return 0, false
}

// Evaluate runs every query of every panel (rows and hidden queries
// aside) through api's query_range over r, with the variables expanded
// for r and vars, and returns the answers in the panels' order. Every
// query is run; the error joins those of the queries that failed (an
// unexpandable variable, PromQL Prometheus refuses), each naming its
// panel and query.
func Evaluate(ctx context.Context, api v1.API, d *Dashboard, r v1.Range, vars Vars) ([]PanelResult, error) {
	if r.Step <= 0 || !r.End.After(r.Start) {
		return nil, fmt.Errorf("evaluate: range %s to %s, step %s: a step and an end after the start are needed", r.Start, r.End, r.Step)
	}
	var out []PanelResult
	var errs []error
	for i := range d.Panels {
		p := &d.Panels[i]
		if p.Type == "row" {
			continue
		}
		pr := PanelResult{Panel: p}
		for _, tg := range p.Targets {
			if tg.Hide {
				continue
			}
			tr := evaluateTarget(ctx, api, d, tg, r, vars)
			if tr.Err != nil {
				tr.Err = fmt.Errorf("panel %d %q, query %s: %w", p.ID, p.Title, tg.RefID, tr.Err)
				errs = append(errs, tr.Err)
			}
			pr.Targets = append(pr.Targets, tr)
		}
		out = append(out, pr)
	}
	return out, errors.Join(errs...)
}

func evaluateTarget(ctx context.Context, api v1.API, d *Dashboard, tg Target, r v1.Range, vars Vars) TargetResult {
	tr := TargetResult{Target: tg}
	tr.Expr, tr.Err = d.Expand(tg.Expr, r, vars)
	if tr.Err != nil {
		return tr
	}
	val, warnings, _, err := api.QueryRange(ctx, tr.Expr, r)
	tr.Warnings = warnings
	if err != nil {
		tr.Err = fmt.Errorf("%s: %w", tr.Expr, err)
		return tr
	}
	m, ok := val.(model.Matrix)
	if !ok {
		tr.Err = fmt.Errorf("%s: a %s, not a matrix", tr.Expr, val.Type())
		return tr
	}
	for _, ss := range m {
		s := Series{Labels: ss.Metric, Name: Legend(tg.LegendFormat, ss.Metric, tr.Expr)}
		for _, sp := range ss.Values {
			s.Points = append(s.Points, Point{T: sp.Timestamp.Time().UTC(), V: float64(sp.Value)})
		}
		tr.Series = append(tr.Series, s)
	}
	sort.SliceStable(tr.Series, func(i, j int) bool { return tr.Series[i].Name < tr.Series[j].Name })
	return tr
}

// legendRef is Grafana's {{label}} (spaces inside the braces allowed).
var legendRef = regexp.MustCompile(`\{\{\s*(.+?)\s*\}\}`)

// Legend is the name Grafana gives a series: format with each {{label}}
// replaced by the series' label (empty when it has none), trimmed; with
// no format (or "__auto"), the series' labels, or the query when it has
// none.
func Legend(format string, labels model.Metric, expr string) string {
	if format == "" || format == "__auto" {
		if len(labels) == 0 {
			return expr
		}
		return labels.String()
	}
	return strings.TrimSpace(legendRef.ReplaceAllStringFunc(format, func(ref string) string {
		name := legendRef.FindStringSubmatch(ref)[1]
		return string(labels[model.LabelName(name)])
	}))
}
