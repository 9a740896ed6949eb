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

package authserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store/memory"
)

// A flood of refused requests (here: the user store failing, so each is a
// 503 with a cause, logged at WARN) writes a bounded number of log lines,
// then one summary of those left out; the metrics still count every one.
func TestRefusalFloodsDoNotFloodTheLog(t *testing.T) {
	f := &failing{Store: memory.New()}
	ts := newTestServer(t, withStore(f), withConfig(func(c *testConfig) {
		c.LogSummaryEvery = 10 * time.Millisecond
	}))
	f.set(true, false)
	const n = 300
	for range n {
		if rec := ts.token("grant_type", "password", "username", "alice", "password", "x"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("store down: %d", rec.Code)
		}
	}
	if got := ts.metric(t, `authstack_token_requests_total{grant_type="password",outcome="temporarily_unavailable"}`); got != n {
		t.Errorf("the metric counted %v refusals, want every one of %d", got, n)
	}
	written := strings.Count(ts.logs.String(), `"msg":"Token request refused"`)
	if written == 0 || written > 20 {
		t.Fatalf("%d log lines for %d refusals, want a few", written, n)
	}
	// The summaries (one per period while the flood lasts) add up to the
	// lines left out.
	deadline := time.Now().Add(10 * time.Second)
	for suppressed(ts.logs.String()) != n-written {
		if time.Now().After(deadline) {
			t.Fatalf("summaries count %d lines left out, want %d", suppressed(ts.logs.String()), n-written)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// suppressed adds up the counts of the summary lines in a JSON log.
func suppressed(logs string) int {
	total := 0
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Msg   string `json:"msg"`
			Count int    `json:"count"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "Similar log lines suppressed" {
			total += l.Count
		}
	}
	return total
}

// A flood of one kind of refusal cannot hide another: after a spray of
// wrong passwords, a refused refresh is still logged, and so is the session
// a reused refresh token ends (the grant logs it, never sampled).
func TestAPasswordSprayDoesNotHideSessionEvents(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.PerUserIP.Max, c.PerIP.Max = 0, 0
	}))
	tr := ts.login(t)
	next := ts.refresh(tr.RefreshToken)
	if next.Code != http.StatusOK {
		t.Fatalf("refresh: %d", next.Code)
	}
	for range 200 {
		if rec := ts.token("grant_type", "password", "username", "alice", "password", "spray"); rec.Code != http.StatusBadRequest {
			t.Fatalf("a wrong password: %d", rec.Code)
		}
	}
	if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("the reused refresh token: %d", rec.Code)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, `"msg":"Refresh session ended"`) || !strings.Contains(logs, `"reason":"a used refresh token was presented again"`) {
		t.Fatal("the session a reused token ended is not in the log")
	}
	if !strings.Contains(logs, `"msg":"Token request refused","grant_type":"refresh_token"`) {
		t.Fatal("the refused refresh was sampled away by the password spray")
	}
}
