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

// Package metricnames tells which metric names a PromQL expression uses
// and which the code registers, so that dashboards and alert rules are
// held to the metrics that exist.
package metricnames

import (
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// fqName is how a Desc's String names its metric.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Described returns the names of every metric the collectors describe
// (a *prometheus.Registry is one): vectors without a child yet included,
// which a scrape would not show.
func Described(cs ...prometheus.Collector) map[string]bool {
	names := map[string]bool{}
	for _, c := range cs {
		ch := make(chan *prometheus.Desc)
		go func() {
			c.Describe(ch)
			close(ch)
		}()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
			}
		}
	}
	return names
}

// Prefixes are the namespaces of the metrics authstack's processes
// export: its own, controller-runtime's and client-go's, and the Go and
// process collectors'.
var Prefixes = []string{"authstack_", "controller_runtime_", "leader_election_", "workqueue_", "rest_client_", "go_", "process_"}

// identifier is a PromQL name; strings and label matchers are removed first.
var (
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
)

// InExpr returns the metric names expr uses: its identifiers with one of
// Prefixes, outside strings, label matchers and grouping clauses.
func InExpr(expr string) []string {
	expr = quoted.ReplaceAllString(expr, `""`)
	expr = matchers.ReplaceAllString(expr, "")
	expr = grouping.ReplaceAllString(expr, "")
	var out []string
	for _, id := range identifier.FindAllString(expr, -1) {
		for _, p := range Prefixes {
			if strings.HasPrefix(id, p) && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// Registered reports whether name is one of names, or a histogram's or
// summary's series (_bucket, _sum, _count) of one.
func Registered(names map[string]bool, name string) bool {
	if names[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && names[base] {
			return true
		}
	}
	return false
}
