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

package monitoring

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authstack/authstack/internal/dashboard"
	"github.com/authstack/authstack/internal/testing/metricnames"
	"github.com/authstack/authstack/internal/testing/testenv"
)

func readDashboard(t *testing.T) *dashboard.Dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "monitoring", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.Parse(b)
	if err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	return d
}

// Every query of the dashboard names metrics the code really exports: a
// renamed metric, or a panel written for one that does not exist, fails
// here instead of showing "No data" to an operator.
func TestDashboardNamesExportedMetrics(t *testing.T) {
	registered := metricnames.Registered(serverRegistry(t), managerRegistry(t))
	d := readDashboard(t)
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			exprs = append(exprs, v.QueryExpr())
		}
	}
	used := 0
	for _, e := range exprs {
		names := metricnames.Names(e)
		used += len(names)
		if missing := metricnames.Missing(registered, names); len(missing) > 0 {
			t.Errorf("the dashboard's query %q names %q, which neither the server nor the manager exports", e, missing)
		}
	}
	if used == 0 {
		t.Fatal("no metric names found in the dashboard's queries")
	}
	// The check itself: a name no process exports is caught.
	if len(metricnames.Missing(registered, []string{"authstack_token_requests_totl"})) != 1 {
		t.Fatal("a misspelt name passes the check")
	}
}

// Every panel is usable in any Grafana: the data source is the template
// variable, ids are unique, and each has a title, a description and a
// unit.
func TestDashboardPanels(t *testing.T) {
	d := readDashboard(t)
	ids := map[int]bool{}
	panels := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		panels++
		if p.Title == "" || p.Description == "" || p.Unit() == "" {
			t.Errorf("panel %d %q: title, description and unit are all needed", p.ID, p.Title)
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: data source %q, %d queries", p.ID, p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %d %q: a query on data source %q", p.ID, p.Title, tg.Datasource.UID)
			}
		}
	}
	if panels < 10 {
		t.Fatalf("%d panels", panels)
	}
}
