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
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// events are the audit trail's lines so far.
func (ts *testServer) events(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(ts.trail.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// matching are the events holding every field of want (a field whose
// wanted value is nil must be absent).
func matching(events []map[string]any, want map[string]any) []map[string]any {
	var out []map[string]any
next:
	for _, e := range events {
		for k, v := range want {
			got, ok := e[k]
			if v == nil && ok || v != nil && got != v {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// wantEvents fails unless exactly n events match want.
func (ts *testServer) wantEvents(t *testing.T, n int, want map[string]any) {
	t.Helper()
	if got := matching(ts.events(t), want); len(got) != n {
		t.Fatalf("%d audit events match %v, want %d; the trail:\n%s", len(got), want, n, ts.trail.String())
	}
}

// fields returns base with kv added.
func fields(base map[string]any, kv ...any) map[string]any {
	m := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

var auditTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// The audit trail records each event of /token and /revoke, on the
// memory store and on Redis: logins (password and client_credentials),
// refreshes, refusals (a known user's with the username, an unknown one's
// or a password typed in the username field without, a throttled one
// with its Retry-After), the sessions the server ends (a reused refresh
// token, a login beyond the user's session limit) and those a client
// revokes. Every line is in the schema, and none holds a password, a
// token, a secret or a hash.
func TestAuditTrailRecordsEachEvent(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			opts := []option{withConfig(func(c *testConfig) { c.MaxSessionsPerUser = 1 })}
			if backend == "redis" {
				opts = append(opts, withStore(newRedisStore(t, redistest.Start(t))))
			}
			checkAuditTrail(t, newTestServer(t, opts...))
		})
	}
}

func checkAuditTrail(t *testing.T, ts *testServer) {
	const ip = "192.0.2.1" // httptest's client address
	var tokens []string
	issued := func(tr tokenResponse) tokenResponse {
		tokens = append(tokens, tr.AccessToken, tr.RefreshToken, tr.IDToken)
		return tr
	}
	alice := map[string]any{"logger": "audit", "endpoint": "token", "username": "alice", "client_id": "billing", "source_ip": ip}
	login := fields(alice, "event", "login", "outcome", "success", "grant_type", "password")

	// A login, and a refresh of its session.
	first := issued(ts.login(t))
	a := sessionOf(t, first.RefreshToken)
	ts.wantEvents(t, 1, fields(login, "session_id", a, "reason", nil, "retry_after", nil, "level", nil))
	for _, e := range ts.events(t) {
		if s, _ := e["time"].(string); !auditTime.MatchString(s) {
			t.Errorf("time %q: want RFC 3339 UTC with milliseconds", e["time"])
		}
	}
	rec := ts.refresh(first.RefreshToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	issued(decode[tokenResponse](t, rec))
	ts.wantEvents(t, 1, fields(alice, "event", "refresh", "outcome", "success", "grant_type", "refresh_token", "session_id", a))

	// A second login ends the first session (one a user here): a
	// revocation of the login's request. (Each later session expires
	// later: the one expiring first is ended.)
	ts.clock.Step(time.Second)
	second := issued(ts.login(t))
	b := sessionOf(t, second.RefreshToken)
	ts.wantEvents(t, 1, fields(login, "session_id", b))
	ts.wantEvents(t, 1, map[string]any{"event": "revocation", "outcome": "success", "endpoint": "token", "grant_type": "password",
		"username": "alice", "source_ip": ip, "session_id": a, "client_id": nil,
		"reason": "the user's session limit (--max-sessions-per-user) was reached"})

	// A reused refresh token ends its session, once: presented again, it
	// is refused without another revocation.
	rec = ts.refresh(second.RefreshToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	issued(decode[tokenResponse](t, rec))
	for range 2 {
		if rec := ts.refresh(second.RefreshToken); rec.Code != http.StatusBadRequest {
			t.Fatalf("a reused refresh token: %d", rec.Code)
		}
	}
	ts.wantEvents(t, 1, fields(alice, "event", "revocation", "outcome", "success", "grant_type", "refresh_token", "session_id", b,
		"reason", "a used refresh token was presented again"))
	ts.wantEvents(t, 1, fields(alice, "event", "refusal", "outcome", "invalid_grant", "grant_type", "refresh_token", "session_id", b,
		"reason", "refresh token already used; the session is revoked"))

	// Refusals: a known user's carries the username; an unknown name, or
	// a password typed in the username field, is never written.
	wrong := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", "wrong-"+alicePassword), headers: billingAuth})
	if wrong.Code != http.StatusBadRequest {
		t.Fatalf("a wrong password: %d", wrong.Code)
	}
	ts.wantEvents(t, 1, fields(alice, "event", "refusal", "outcome", "invalid_grant", "grant_type", "password",
		"reason", "invalid username or password", "session_id", nil))
	unknown := map[string]any{"event": "refusal", "outcome": "invalid_grant", "grant_type": "password", "client_id": "default",
		"source_ip": ip, "username": nil}
	ts.token("grant_type", "password", "username", "mallory", "password", "x")
	ts.wantEvents(t, 1, unknown)
	ts.token("grant_type", "password", "username", alicePassword, "password", alicePassword)
	ts.wantEvents(t, 2, unknown)
	if strings.Contains(ts.trail.String(), "mallory") {
		t.Error("the trail holds the name of no user")
	}

	// Guessing from another address: throttled, with the Retry-After.
	for i := range 6 {
		rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", "guess"), remote: "198.51.100.9:4000"})
		if want := http.StatusBadRequest; i == 5 {
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("guess %d: %d, want 429", i, rec.Code)
			}
		} else if rec.Code != want {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	guesses := map[string]any{"event": "refusal", "username": "alice", "client_id": "default", "source_ip": "198.51.100.9"}
	ts.wantEvents(t, 5, fields(guesses, "outcome", "invalid_grant"))
	throttled := matching(ts.events(t), fields(guesses, "outcome", "slow_down"))
	if len(throttled) != 1 || throttled[0]["retry_after"].(float64) < 1 {
		t.Fatalf("throttled guesses %v: want one, with a retry_after", throttled)
	}

	// A program's own token: a login without a user or a session.
	ts.addPrograms(t)
	rec = ts.do(request{body: form("grant_type", "client_credentials"), headers: map[string]string{"Authorization": basic("svc", svcSecret)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", rec.Code, rec.Body)
	}
	issued(decode[tokenResponse](t, rec))
	ts.wantEvents(t, 1, map[string]any{"event": "login", "outcome": "success", "grant_type": "client_credentials", "client_id": "svc",
		"username": nil, "session_id": nil})

	// /revoke: the client revokes its session by the refresh token, once;
	// another client is refused; revoking by the access token ends its
	// session too.
	ts.clock.Step(time.Second)
	third := issued(ts.login(t))
	c := sessionOf(t, third.RefreshToken)
	for range 2 {
		if rec := ts.post("/revoke", billingAuth, "token", third.RefreshToken); rec.Code != http.StatusOK {
			t.Fatalf("revoke: %d", rec.Code)
		}
	}
	revoked := map[string]any{"event": "revocation", "outcome": "success", "endpoint": "revoke", "username": "alice",
		"client_id": "billing", "source_ip": ip, "grant_type": nil}
	ts.wantEvents(t, 1, fields(revoked, "session_id", c, "reason", "revoked by its client (refresh_token)"))
	ts.clock.Step(time.Second)
	fourth := issued(ts.login(t))
	d := sessionOf(t, fourth.RefreshToken)
	if rec := ts.post("/revoke", nil, "token", fourth.RefreshToken, "client_id", "cli"); rec.Code != http.StatusBadRequest {
		t.Fatalf("revoke by another client: %d", rec.Code)
	}
	ts.wantEvents(t, 1, map[string]any{"event": "refusal", "outcome": "unauthorized_client", "endpoint": "revoke", "client_id": "cli",
		"source_ip": ip, "reason": "the token was not issued to this client"})
	if rec := ts.post("/revoke", billingAuth, "token", fourth.AccessToken); rec.Code != http.StatusOK {
		t.Fatalf("revoke the access token: %d", rec.Code)
	}
	ts.wantEvents(t, 1, fields(revoked, "session_id", d, "reason", "revoked by its client (access_token)"))

	// Every line is marked, and holds no secret.
	for _, e := range ts.events(t) {
		if e["logger"] != "audit" {
			t.Errorf("event %v without the marker", e)
		}
	}
	aliceRecord, err := ts.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		alicePassword, "wrong-" + alicePassword, billingSecret, svcSecret, aliceRecord.PasswordHash,
		store.HashClientSecret(billingSecret), store.HashClientSecret(svcSecret),
		strings.TrimPrefix(billingAuth["Authorization"], "Basic "), strings.TrimPrefix(basic("svc", svcSecret), "Basic "),
	}
	for _, tok := range tokens {
		if tok != "" {
			secrets = append(secrets, tok, tok[strings.LastIndex(tok, ".")+1:])
		}
	}
	trail := ts.trail.String()
	for _, s := range secrets {
		if strings.Contains(trail, s) {
			t.Errorf("the audit trail holds a secret: %.12s…", s)
		}
	}
}

// A flood of refusals of several kinds, thousands of them from four
// clients at once, interleaved with successes: every success is written;
// of each kind of refusal at most a burst is, and the summaries, on the
// audit trail, count the rest exactly.
func TestAuditTrailUnderAFloodKeepsEverySuccess(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.LogSummaryEvery = 10 * time.Millisecond
		c.MaxSessionsPerUser = -1
	}))
	ts.addPrograms(t)
	kinds := map[string]request{ // by endpoint, grant type and outcome
		"token unknown unsupported_grant_type": {body: form("grant_type", "nope")},
		"token password invalid_request":       {body: form("grant_type", "password", "username", "alice")},
		"token refresh_token invalid_grant":    {body: form("grant_type", "refresh_token", "refresh_token", "garbage"), headers: billingAuth},
		"revoke  invalid_request":              {path: "/revoke", body: form("client_id", "cli")},
	}
	const perKind = 800
	var wg sync.WaitGroup
	for kind, r := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perKind {
				if rec := ts.do(r); rec.Code != http.StatusBadRequest {
					t.Errorf("%s: %d", kind, rec.Code)
					return
				}
			}
		}()
	}
	const rounds = 25
	sessions := map[string]bool{}
	for range rounds {
		tr := ts.login(t)
		sessions[sessionOf(t, tr.RefreshToken)] = true
		rec := ts.refresh(tr.RefreshToken)
		if rec.Code != http.StatusOK {
			t.Fatalf("refresh: %d", rec.Code)
		}
		if rec := ts.post("/revoke", billingAuth, "token", decode[tokenResponse](t, rec).RefreshToken); rec.Code != http.StatusOK {
			t.Fatalf("revoke: %d", rec.Code)
		}
		if rec := ts.do(request{body: form("grant_type", "client_credentials"),
			headers: map[string]string{"Authorization": basic("svc", svcSecret)}}); rec.Code != http.StatusOK {
			t.Fatalf("client_credentials: %d", rec.Code)
		}
	}
	wg.Wait()

	events := ts.events(t)
	for sid := range sessions {
		for _, want := range []map[string]any{
			{"event": "login", "grant_type": "password", "session_id": sid},
			{"event": "refresh", "session_id": sid},
			{"event": "revocation", "endpoint": "revoke", "session_id": sid},
		} {
			if n := len(matching(events, want)); n != 1 {
				t.Errorf("%d events %v, want 1", n, want)
			}
		}
	}
	if n := len(matching(events, map[string]any{"event": "login", "grant_type": "client_credentials"})); n != rounds {
		t.Errorf("%d client_credentials logins written, want %d", n, rounds)
	}
	// Of each kind, a burst at most; the summaries count the rest.
	key := func(e map[string]any) string {
		gt, _ := e["grant_type"].(string)
		return e["endpoint"].(string) + " " + gt + " " + e["outcome"].(string)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		written, suppressed := map[string]int{}, map[string]int{}
		for _, e := range matching(ts.events(t), map[string]any{"event": "refusal"}) {
			if n, ok := e["suppressed"].(float64); ok {
				suppressed[key(e)] += int(n)
			} else {
				written[key(e)]++
			}
		}
		done := len(written) == len(kinds)
		for kind := range kinds {
			if written[kind] == 0 || written[kind] > logsample.DefaultBurst {
				t.Fatalf("%s: %d refusals written of %d, want a burst at most (%d); all: %v", kind, written[kind], perKind, logsample.DefaultBurst, written)
			}
			done = done && written[kind]+suppressed[kind] == perKind
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("written %v, summarised %v: want %d of each kind in all", written, suppressed, perKind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
