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
	"fmt"
	"regexp"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Vars are what Grafana would fill the template variables of a query
// with, beside the time range.
type Vars struct {
	// Values are the chosen values of the dashboard's own variables, by
	// name. A variable missing here, or given no value, is "All".
	Values map[string][]string
	// ScrapeInterval is the data source's scrape interval, which
	// $__rate_interval is computed from (Grafana's default: 15s).
	ScrapeInterval time.Duration
}

// DefaultScrapeInterval is Grafana's scrape interval of a Prometheus data
// source that sets none.
const DefaultScrapeInterval = 15 * time.Second

// variableRef matches $name and ${name} (and ${name:format}, which is
// refused).
var variableRef = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::([^}]*))?\}|([A-Za-z0-9_]+))`)

// Expand interpolates the template variables of expr for a query over r,
// as Grafana's Prometheus data source does:
//
//   - a variable of the dashboard: its chosen values as a regular
//     expression alternation, (a|b), each value's regular-expression
//     metacharacters escaped for a PromQL string; a single value alone;
//     "All" (no value chosen) the variable's allValue;
//   - $__interval: the query's step (Grafana's interval, when the step is
//     the interval);
//   - $__rate_interval: max(4 × the scrape interval, $__interval + the
//     scrape interval);
//   - $__range: the range's length in whole seconds ("3600s").
//
// An unknown variable, or a format (${name:csv}), is an error rather than
// text left in the query; $1, $2, ... (label_replace's capture groups) are
// left as they are.
func (d *Dashboard) Expand(expr string, r v1.Range, vars Vars) (string, error) {
	var errs []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[3]
		if strings.Trim(name, "0123456789") == "" {
			return ref // $1: a capture group of label_replace's replacement
		}
		if m[2] != "" {
			errs = append(errs, fmt.Sprintf("%s: variable formats are not supported", ref))
			return ref
		}
		v, err := d.value(name, r, vars)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", ref, err))
			return ref
		}
		return v
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("expand %q: %s", expr, strings.Join(errs, "; "))
	}
	return out, nil
}

func (d *Dashboard) value(name string, r v1.Range, vars Vars) (string, error) {
	scrape := vars.ScrapeInterval
	if scrape <= 0 {
		scrape = DefaultScrapeInterval
	}
	switch name {
	case "__interval":
		return promDuration(r.Step), nil
	case "__rate_interval":
		return promDuration(RateInterval(r.Step, scrape)), nil
	case "__range":
		return fmt.Sprintf("%ds", int64(r.End.Sub(r.Start).Round(time.Second)/time.Second)), nil
	}
	v, ok := d.Variable(name)
	if !ok {
		return "", fmt.Errorf("the dashboard has no variable %q", name)
	}
	if v.Type == "datasource" {
		return "", fmt.Errorf("%q is a data source variable, not one a query can use", name)
	}
	chosen := vars.Values[name]
	if len(chosen) == 0 {
		if !v.IncludeAll || v.AllValue == "" {
			return "", fmt.Errorf("no value chosen for %q, and it has no allValue", name)
		}
		return v.AllValue, nil
	}
	if len(chosen) > 1 && !v.Multi {
		return "", fmt.Errorf("%d values for %q, which takes one", len(chosen), name)
	}
	quoted := make([]string, len(chosen))
	for i, c := range chosen {
		// The regular expression sits in a PromQL string: its
		// backslashes are doubled.
		quoted[i] = strings.ReplaceAll(regexp.QuoteMeta(c), `\`, `\\`)
	}
	if len(quoted) == 1 {
		return quoted[0], nil
	}
	return "(" + strings.Join(quoted, "|") + ")", nil
}

// RateInterval is Grafana's $__rate_interval for a query of the given
// interval on a data source scraped every scrape: max(4 × scrape,
// interval + scrape), so that a rate always spans at least two samples.
func RateInterval(interval, scrape time.Duration) time.Duration {
	return max(4*scrape, interval+scrape)
}

// promDuration writes d as a PromQL duration ("1m30s", "250ms").
func promDuration(d time.Duration) string { return model.Duration(d).String() }
