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

// Package dashboard is the Grafana dashboard authstack ships
// (config/monitoring/grafana-dashboard.json), evaluated against a
// Prometheus and drawn: Parse reads it into typed panels, Expand
// interpolates a query's template variables as Grafana does, Evaluate runs
// every query through Prometheus's query_range API, and RenderSVG draws
// the answers on the dashboard's own grid. hack/dashshot puts the three
// together; test/monitoring reads the dashboard with Parse.
package dashboard

import (
	"encoding/json"
	"fmt"
)

// Dashboard is the part of a Grafana dashboard's JSON model authstack's
// dashboard uses.
type Dashboard struct {
	Title       string `json:"title"`
	UID         string `json:"uid"`
	Description string `json:"description"`
	Templating  struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a template variable of the dashboard.
type Variable struct {
	Name  string `json:"name"`
	Type  string `json:"type"` // datasource, query, custom, ...
	Label string `json:"label"`
	// Query is a string (a data source type, a custom list) or, for a
	// query variable, an object holding the query: QueryExpr reads both.
	Query      any    `json:"query"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

// QueryExpr is the variable's query: the string itself, or the "query"
// member of the object form Grafana writes for Prometheus query variables.
func (v Variable) QueryExpr() string {
	switch q := v.Query.(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	}
	return ""
}

// Panel is a panel of the dashboard: a row header (Type "row") or a
// visualisation.
type Panel struct {
	ID          int        `json:"id"`
	Type        string     `json:"type"` // row, timeseries, stat, ...
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Datasource  Datasource `json:"datasource"`
	GridPos     GridPos    `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit   string `json:"unit"`
			Custom struct {
				FillOpacity float64 `json:"fillOpacity"`
				LineWidth   float64 `json:"lineWidth"`
				Stacking    struct {
					Mode string `json:"mode"` // none, normal, percent
				} `json:"stacking"`
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Options struct {
		Legend struct {
			Calcs []string `json:"calcs"`
		} `json:"legend"`
	} `json:"options"`
	Targets []Target `json:"targets"`
	// Panels are a collapsed row's panels, read only so that Parse can
	// refuse them.
	Panels []Panel `json:"panels"`
}

// Unit is the panel's unit (fieldConfig.defaults.unit).
func (p *Panel) Unit() string { return p.FieldConfig.Defaults.Unit }

// Stacked tells whether the panel stacks its series.
func (p *Panel) Stacked() bool { return p.FieldConfig.Defaults.Custom.Stacking.Mode == "normal" }

// Datasource is a data source reference; authstack's panels name the
// $datasource variable.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// GridPos is a panel's place on the dashboard's grid: 24 columns wide,
// in rows of one unit each.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Columns is the width of Grafana's dashboard grid.
const Columns = 24

// Target is one query of a panel.
type Target struct {
	RefID        string     `json:"refId"`
	Expr         string     `json:"expr"`
	LegendFormat string     `json:"legendFormat"`
	Hide         bool       `json:"hide"`
	Datasource   Datasource `json:"datasource"`
}

// Parse reads a dashboard's JSON model. A collapsed row, which holds its
// panels instead of leaving them on the grid, is refused: they would go
// unevaluated and unchecked.
func Parse(b []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if len(d.Panels) == 0 {
		return nil, fmt.Errorf("dashboard %q has no panels", d.Title)
	}
	for _, p := range d.Panels {
		if len(p.Panels) > 0 {
			return nil, fmt.Errorf("dashboard: row %d %q is collapsed; its panels would go unevaluated and unchecked: save it expanded", p.ID, p.Title)
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > Columns {
			return nil, fmt.Errorf("dashboard: panel %d %q: gridPos %+v is off the %d-column grid", p.ID, p.Title, g, Columns)
		}
	}
	return &d, nil
}

// Variable returns the dashboard's variable name.
func (d *Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}
