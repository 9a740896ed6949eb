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
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/store"
)

func (ts *testServer) doOn(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// No password, token, client secret or hash ever reaches the logs or the
// audit trail, whatever the request: including a password typed into the
// username field.
func TestLogsNeverContainSecrets(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	basicBilling := basic("billing", billingSecret)
	ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), headers: map[string]string{"Authorization": basicBilling}})
	ts.token("grant_type", "password", "username", alicePassword, "password", alicePassword)
	ts.token("grant_type", "password", "username", "alice", "password", "wrong-"+alicePassword)
	ts.token("grant_type", "password", "username", "bob", "password", bobPassword+"x")
	ts.do(request{path: "/token?password=" + alicePassword, body: form("grant_type", "password")})
	ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), headers: map[string]string{"Authorization": basic("billing", "wrong-"+billingSecret)}})
	ts.do(request{method: http.MethodGet, path: "/userinfo", headers: map[string]string{"Authorization": "Bearer " + tok}})
	ts.do(request{method: http.MethodGet, path: "/userinfo", headers: map[string]string{"Authorization": "Bearer " + tamper(t, tok)}})
	for i := 0; i < 6; i++ { // hit the throttle
		ts.token("grant_type", "password", "username", "carol", "password", carolPassword)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "Token issued") || !strings.Contains(logs, "Token request refused") {
		t.Fatalf("expected audit lines in the log, got:\n%s", logs)
	}
	alice, _ := ts.store.GetUser(t.Context(), "alice")
	secrets := map[string]string{
		"alice's password": alicePassword, "bob's password": bobPassword, "carol's password": carolPassword,
		"client secret": billingSecret, "basic header": strings.TrimPrefix(basicBilling, "Basic "),
		"access token": tok, "token signature": tok[strings.LastIndex(tok, ".")+1:],
		"password hash": alice.PasswordHash, "client secret hash": store.HashClientSecret(billingSecret),
	}
	trail := ts.trail.String()
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains %s", name)
		}
		if strings.Contains(trail, s) {
			t.Errorf("the audit trail contains %s", name)
		}
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t)
	ts.mustToken()
	ts.token("grant_type", "password", "username", "alice", "password", "wrong")
	ts.token("grant_type", "nope")
	rec := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics")
	body := rec.Body.String()
	for _, want := range []string{
		`authstack_token_requests_total{grant_type="password",outcome="success"} 1`,
		`authstack_token_requests_total{grant_type="password",outcome="invalid_grant"} 1`,
		`authstack_token_requests_total{grant_type="unknown",outcome="unsupported_grant_type"} 1`,
		`authstack_password_hash_duration_seconds_count 2`,
		`authstack_token_request_duration_seconds_count{grant_type="password",outcome="success"} 1`,
		`authstack_token_request_duration_seconds_count{grant_type="password",outcome="invalid_grant"} 1`,
		`go_sched_latencies_seconds_bucket`,
		`authstack_http_requests_total{code="200",handler="/token"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Metrics are not on the API listener.
	if rec := ts.do(request{method: http.MethodGet, path: "/metrics"}); rec.Code == http.StatusOK {
		t.Error("/metrics is served on the API listener")
	}
}

// Every request is counted under its route's label, whatever its method,
// and one no route serves under "other"; probes are counted too.
func TestRequestMetricLabels(t *testing.T) {
	ts := newTestServer(t)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/verify/invoices"},
		{http.MethodGet, "/verify"}, // the same label and code: counted again
		{http.MethodGet, "/nope"},
		{http.MethodGet, "/token/"},
		{http.MethodPost, "/.well-known/jwks.json"},
		{http.MethodGet, "/healthz"},
	} {
		ts.doOn(ts.handler, r.method, r.path)
	}
	body := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String()
	for _, want := range []string{
		`authstack_http_requests_total{code="401",handler="/verify"} 2`,
		`authstack_http_requests_total{code="404",handler="other"} 2`,
		`authstack_http_requests_total{code="405",handler="/.well-known/jwks.json"} 1`,
		`authstack_http_requests_total{code="200",handler="/healthz"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// The mirror's figures are on the metrics listener.
func TestMirrorMetrics(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	if rec := ts.post("/revoke", nil, "token", tok, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	ts.caughtUp()
	for name, want := range map[string]float64{
		// Revoking an access token revokes its session.
		"authstack_revocation_mirror_revoked_tokens":   0,
		"authstack_revocation_mirror_revoked_sessions": 1,
		// alice, bob, carol, and the states of billing, cli and refresh-only.
		"authstack_revocation_mirror_users":               6,
		"authstack_revocation_mirror_loads_total":         1,
		"authstack_revocation_mirror_rollbacks_total":     0,
		"authstack_revocation_mirror_sync_errors_total":   0,
		"authstack_revocation_mirror_epoch_changes_total": 0,
		// The default --revocation-max-staleness.
		"authstack_revocation_mirror_max_staleness_seconds": 2,
		// The session's revocation, read back from the change log.
		"authstack_revocation_propagation_seconds_count": 1,
	} {
		if got := ts.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := ts.metric(t, "authstack_revocation_mirror_staleness_seconds"); got <= 0 || got > 2 {
		t.Errorf("staleness %v s", got)
	}
}
