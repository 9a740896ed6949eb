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

package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The series the alerts compare exist at 0 before the first request: a
// rate() over a counter that first appears with its first burst of
// refusals misses the burst (Prometheus has no sample before it).
func TestAlertedSeriesExistFromTheStart(t *testing.T) {
	m := New()
	var want strings.Builder
	want.WriteString("# HELP authstack_throttle_rejections_total Token requests refused with 429 by limit (user_ip, ip, user_rate or client_rate).\n" +
		"# TYPE authstack_throttle_rejections_total counter\n")
	for _, l := range []string{"client_rate", "ip", "session", "user_ip", "user_rate"} {
		want.WriteString(`authstack_throttle_rejections_total{limit="` + l + `"} 0` + "\n")
	}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want.String()), "authstack_throttle_rejections_total"); err != nil {
		t.Error(err)
	}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(
		"# HELP authstack_token_requests_total Token endpoint requests by grant type and outcome (success or OAuth error code).\n"+
			"# TYPE authstack_token_requests_total counter\n"+
			`authstack_token_requests_total{grant_type="password",outcome="invalid_grant"} 0`+"\n"+
			`authstack_token_requests_total{grant_type="password",outcome="success"} 0`+"\n"),
		"authstack_token_requests_total"); err != nil {
		t.Error(err)
	}
}
