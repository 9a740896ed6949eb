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

package metricnames_test

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authstack/authstack/internal/testing/metricnames"
)

func TestNames(t *testing.T) {
	expr := `histogram_quantile(0.99, sum by (le) (rate(authstack_token_request_duration_seconds_bucket{outcome="authstack_not_a_metric"}[$__rate_interval])))
		/ on (pod) go_goroutines or absent(leader_election_master_status{name=~'go_x|y'}) + $go_variable + authstack_a:b`
	want := []string{"authstack_a:b", "authstack_token_request_duration_seconds_bucket", "go_goroutines", "leader_election_master_status"}
	if got := metricnames.Names(expr); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %q, want %q", got, want)
	}
}

func TestRegisteredAndMissing(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authstack_unused_total"}, []string{"x"}), // no child yet
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "authstack_latency_seconds"}),
	)
	got := metricnames.Missing(metricnames.Registered(reg), []string{
		"authstack_unused_total", "authstack_latency_seconds_bucket", "authstack_latency_seconds_count",
		"authstack_unused_total_count", "authstack_nowhere_total", "authstack_latency_bucket",
	})
	want := []string{"authstack_nowhere_total", "authstack_latency_bucket"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing = %q, want %q", got, want)
	}
}
