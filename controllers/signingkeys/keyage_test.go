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

package signingkeys

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"
)

// The key's age is computed when scraped: it grows between the passes of
// the rotation (hours or days apart), so a manager that stopped rotating
// shows a key older than the period instead of the age its last pass saw.
func TestKeyAgeGrowsBetweenPasses(t *testing.T) {
	activated := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(activated.Add(time.Hour))
	k := NewKeyAge()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(k)
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Fatalf("before the first pass: %d series, %v; want none", n, err)
	}
	k.Set("auth/keys", activated, clk)
	check := func(age time.Duration) {
		t.Helper()
		exp := "# HELP authstack_signing_key_age_seconds Time since the active signing key was activated, as of the scrape.\n" +
			"# TYPE authstack_signing_key_age_seconds gauge\n" +
			`authstack_signing_key_age_seconds{secret="auth/keys"} ` + strconv.FormatFloat(age.Seconds(), 'f', -1, 64) + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(exp), "authstack_signing_key_age_seconds"); err != nil {
			t.Error(err)
		}
	}
	check(time.Hour)
	clk.Step(48 * time.Hour) // no pass
	check(49 * time.Hour)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(
		"# HELP authstack_signing_key_activated_timestamp_seconds When the active signing key was activated (Unix time).\n"+
			"# TYPE authstack_signing_key_activated_timestamp_seconds gauge\n"+
			`authstack_signing_key_activated_timestamp_seconds{secret="auth/keys"} `+strconv.FormatFloat(float64(activated.Unix()), 'f', -1, 64)+"\n"),
		"authstack_signing_key_activated_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}
