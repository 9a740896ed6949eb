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

package metricnames

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestInExpr(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (outcome) (rate(authstack_token_requests_total{job=~"$job",outcome!="success"}[5m]))`: {"authstack_token_requests_total"},
		`histogram_quantile(0.99, sum by (le) (rate(authstack_token_request_duration_seconds_bucket[5m])))`: {"authstack_token_request_duration_seconds_bucket"},
		`max(authstack_revocation_mirror_staleness_seconds) > 10 and on (job) up == 1`:                           {"authstack_revocation_mirror_staleness_seconds"},
		`sum(leader_election_master_status{name="authstack"}) == 0 or label_replace(vector(0), "x", "go_fake", "", "")`: {"leader_election_master_status"},
	} {
		if got := InExpr(expr); !reflect.DeepEqual(got, want) {
			t.Errorf("InExpr(%s) = %v, want %v", expr, got, want)
		}
	}
}

func TestDescribedAndRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewCounterVec(prometheus.CounterOpts{Name: "a_total", Help: "a"}, []string{"x"}),
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "b_seconds", Help: "b"}),
	)
	names := Described(reg)
	if !names["a_total"] || !names["b_seconds"] || len(names) != 2 {
		t.Fatalf("Described = %v", names)
	}
	for name, want := range map[string]bool{"a_total": true, "b_seconds_bucket": true, "b_seconds_count": true, "c": false, "b_total": false} {
		if got := Registered(names, name); got != want {
			t.Errorf("Registered(%s) = %v, want %v", name, got, want)
		}
	}
}
