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
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// RFC 6750 §3.1: a repeated scope or audience on /verify is invalid_request;
// reading only the first would let ?scope=read&scope=admin pass a token
// without admin.
func TestVerifyRefusesRepeatedParameters(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken() // alice, scope "read write", aud the issuer
	billing := ts.login(t).AccessToken
	for _, q := range []string{
		"?scope=read&scope=admin",
		"?scope=admin&scope=read",
		"?scope=read&scope=read",
		"?scope=read&scope=",
		"?audience=" + url.QueryEscape(issuer) + "&audience=" + url.QueryEscape(billingAudience),
		"?audience=" + url.QueryEscape(billingAudience) + "&audience=" + url.QueryEscape(issuer),
		"?scope=read&audience=" + url.QueryEscape(issuer) + "&scope=admin",
		// A query that does not parse is refused whole: url.URL.Query drops
		// the bad pair, which checked no scope, or the default audience.
		"?scope=admin%ZZ",
		"?scope=admin;",
		"?audience=" + url.QueryEscape(billingAudience) + "%G0",
	} {
		for _, bearer := range []string{tok, billing} {
			ts.caughtUp()
			rec := ts.do(request{method: http.MethodGet, path: "/verify" + q, headers: map[string]string{"Authorization": "Bearer " + bearer}})
			ch := rec.Header().Get("WWW-Authenticate")
			if rec.Code != http.StatusBadRequest || !strings.HasPrefix(ch, `Bearer realm="authstack", error="invalid_request"`) ||
				decode[errorResponse](t, rec).Error != "invalid_request" {
				t.Errorf("%s: %d %q %s, want 400 invalid_request with a challenge", q, rec.Code, ch, rec.Body)
			}
			if rec.Header().Get("X-Auth-Request-User") != "" {
				t.Errorf("%s: identity headers on a refusal", q)
			}
		}
	}
	// Each parameter once is still fine.
	rec := ts.do(request{method: http.MethodGet, path: "/verify?scope=read&audience=" + url.QueryEscape(billingAudience),
		headers: map[string]string{"Authorization": "Bearer " + billing}})
	if rec.Code != http.StatusOK {
		t.Errorf("scope and audience once each: %d %s", rec.Code, rec.Body)
	}
}

// Below /verify/ the query is the client's and scope and audience are not
// applied: that is logged, with the parameter names only, and at most once
// a minute however many requests carry them.
func TestVerifyLogsParametersIgnoredBelowThePath(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	const msg = "Query parameters below /verify/ are the client's and are not applied"
	lines := func() []map[string]any {
		var out []map[string]any
		for _, l := range strings.Split(ts.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && strings.HasPrefix(m["msg"].(string), msg) {
				out = append(out, m)
			}
		}
		return out
	}
	get := func(path string) {
		t.Helper()
		ts.caughtUp()
		rec := ts.do(request{method: http.MethodGet, path: path, headers: map[string]string{"Authorization": "Bearer " + tok}})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	get("/verify/invoices?page=2")
	get("/verify?scope=read")
	if got := lines(); len(got) != 0 {
		t.Fatalf("logged without ignored parameters: %v", got)
	}
	const secret = "s3cr3t-query-value"
	get("/verify/invoices?scope=admin&audience=" + secret + "&page=2")
	for range 50 {
		get("/verify/x?scope=" + secret)
	}
	got := lines()
	if len(got) != 1 {
		t.Fatalf("%d log lines for 51 requests, want 1 (rate-limited)", len(got))
	}
	if got[0]["level"] != "WARN" || !slices.Equal(anyStrings(got[0]["parameters"]), []string{"scope", "audience"}) {
		t.Errorf("log line %v, want WARN with parameters [scope audience]", got[0])
	}
	if logs := ts.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, tok) || strings.Contains(logs, "page=2") {
		t.Errorf("the log holds the query or the token: %s", logs)
	}
}

// A refresh token is not an access token.
func TestRefreshTokenAsBearerIsRefused(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
	rt := decode[tokenResponse](t, rec).RefreshToken
	if rt == "" {
		t.Fatal("the default client gets no refresh token")
	}
	for _, path := range []string{"/userinfo", "/verify"} {
		req := request{method: http.MethodGet, path: path, headers: map[string]string{"Authorization": "Bearer " + rt}}
		if got := ts.do(req); got.Code != http.StatusUnauthorized || !strings.Contains(got.Header().Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s with a refresh token: %d %q", path, got.Code, got.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestVerifyEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken() // alice through the default client: aud is the issuer
	verify := func(q, auth string) *httptest.ResponseRecorder {
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = auth
		}
		ts.caughtUp()
		return ts.do(request{method: http.MethodGet, path: "/verify" + q, headers: h})
	}
	rec := verify("", "Bearer "+tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("verify: %d %s", rec.Code, rec.Body)
	}
	// Each header once, with one value, under its canonical name.
	for h, want := range map[string]string{
		"X-Auth-Request-User": "alice", "X-Auth-Request-Groups": "readers,writers",
		"X-Auth-Request-Scopes": "read write", "X-Auth-Request-Client-Id": "default",
		"Cache-Control": "no-store",
	} {
		if got := rec.Header()[h]; !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if rec := verify("", ""); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="authstack"` ||
		!slices.Equal(rec.Header()["Cache-Control"], []string{"no-store"}) {
		t.Errorf("no token: %d %q, Cache-Control %q", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Header()["Cache-Control"])
	}
	if rec := verify("", "Bearer x"); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if rec := verify("?scope=read", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("scope held: %d", rec.Code)
	}
	rec = verify("?scope=read%20admin", "Bearer "+tok)
	if ch := rec.Header().Get("WWW-Authenticate"); rec.Code != http.StatusForbidden || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="read admin"`) {
		t.Errorf("scope missing: %d %q", rec.Code, ch)
	}
	// Audiences: billing's tokens are for billing, not for the default set.
	billing := ts.login(t).AccessToken
	if rec := verify("", "Bearer "+billing); rec.Code != http.StatusUnauthorized {
		t.Errorf("token for another audience: %d", rec.Code)
	}
	if rec := verify("?audience="+billingAudience, "Bearer "+billing); rec.Code != http.StatusOK {
		t.Errorf("token for the named audience: %d", rec.Code)
	}
	// Envoy's ext_authz asks below the path, with the client's own path and
	// query: answered the same, but the client's query sets nothing.
	if rec := verify("/invoices?page=2", "Bearer "+tok); rec.Code != http.StatusOK || rec.Header().Get("X-Auth-Request-User") != "alice" {
		t.Errorf("subtree: %d", rec.Code)
	}
	if rec := verify("/x?audience="+url.QueryEscape(billingAudience), "Bearer "+billing); rec.Code != http.StatusUnauthorized {
		t.Errorf("a client's audience= below the path was honoured: %d", rec.Code)
	}
	if rec := verify("/x?scope=admin", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("a client's scope= below the path was honoured: %d", rec.Code)
	}
	if rec := ts.post("/revoke", nil, "token", tok, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	if rec := verify("", "Bearer "+tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", rec.Code)
	}
	// Five granted above (the first, scope held, the named audience and
	// the two below the path), counted as they always were.
	body := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String()
	for _, want := range []string{
		`authstack_bearer_validations_total{endpoint="verify",outcome="success"} 5`,
		`authstack_http_requests_total{code="200",handler="/verify"} 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
