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

// Package metricnames checks that the metric names a query uses (the
// alerting rules' expressions, the dashboard's panels) are ones the code
// registers: Names reads them out of a PromQL expression, Registered lists
// what collectors export, and Missing compares the two.
package metricnames

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Prefixes are those of the metric names checked: authstack's own, and
// those of controller-runtime, client-go's leader election and work
// queues, and the Go and process collectors. Other identifiers in an
// expression (functions, label names, keywords) have none of them.
var Prefixes = []string{"authstack_", "controller_runtime_", "leader_election_", "workqueue_", "go_", "process_"}

var (
	// quoted strips label values and other strings, which may hold
	// anything ("invalid_grant", a regular expression).
	quoted = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	// ident is a PromQL identifier; one right after '$' (a Grafana
	// variable) or inside one is not matched as a metric.
	ident = regexp.MustCompile(`\$?[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// fqName reads the name out of a prometheus.Desc's String.
	fqName = regexp.MustCompile(`fqName: "([^"]+)"`)
)

// Names returns the metric names with one of Prefixes that expr uses,
// sorted, each once.
func Names(expr string) []string {
	expr = quoted.ReplaceAllString(expr, `""`)
	var out []string
	for _, id := range ident.FindAllString(expr, -1) {
		if strings.HasPrefix(id, "$") || !hasPrefix(id) {
			continue
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func hasPrefix(name string) bool {
	for _, p := range Prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Registered returns the names of every metric the collectors (a
// prometheus.Registry is one) describe or collect (an unchecked
// collector describes nothing, but collects). A vector with no child yet
// is described all the same, so a counter that has not counted anything
// is found.
func Registered(cs ...prometheus.Collector) map[string]bool {
	names := map[string]bool{}
	for _, c := range cs {
		descs := make(chan *prometheus.Desc)
		go func() { c.Describe(descs); close(descs) }()
		for d := range descs {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
			}
		}
		metrics := make(chan prometheus.Metric)
		go func() { c.Collect(metrics); close(metrics) }()
		for m := range metrics {
			if n := fqName.FindStringSubmatch(m.Desc().String()); n != nil {
				names[n[1]] = true
			}
		}
	}
	return names
}

// Missing returns the names that registered does not hold, a histogram's
// or summary's series (name_bucket, name_sum, name_count) counted under
// the metric's name.
func Missing(registered map[string]bool, names []string) []string {
	var out []string
names:
	for _, n := range names {
		if registered[n] {
			continue
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && registered[base] {
				continue names
			}
		}
		out = append(out, n)
	}
	return out
}
