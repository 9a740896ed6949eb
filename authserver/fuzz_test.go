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
	"strings"
	"testing"
)

// FuzzTokenEndpoint throws arbitrary bodies, content types and
// Authorization headers at /token. Whatever arrives, the answer is a
// well-formed OAuth error or a token: never a 500, never a panic.
func FuzzTokenEndpoint(f *testing.F) {
	f.Add("grant_type=password&username=alice&password="+alicePassword, "application/x-www-form-urlencoded", "")
	f.Add("grant_type=password&username=alice&password=x&client_id=billing&client_secret=y", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=password&username=alice&password=x", "application/x-www-form-urlencoded; charset=utf-8", basic("billing", billingSecret))
	f.Add("grant_type=password&grant_type=password", "application/x-www-form-urlencoded", "Basic Og==")
	f.Add("%zz", "application/x-www-form-urlencoded", "Basic")
	f.Add(`{"grant_type":"password"}`, "application/json", "Bearer x")
	f.Add("grant_type=password&username=alice&password=x&scope=%00", "multipart/form-data; boundary=x", "Basic !!!")
	// No throttling: every input must reach the grant, not a 429.
	ts := newTestServer(f, withConfig(func(c *testConfig) { c.PerUserIP.Max, c.PerIP.Max = 0, 0 }))
	f.Fuzz(func(t *testing.T, body, ctype, auth string) {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("missing Cache-Control: no-store")
		}
		if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error":"`) {
			t.Fatalf("status %d without an OAuth error body: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzRevocationEndpoints throws arbitrary bodies and headers at /revoke,
// /introspect and /verify: the answer is an RFC error or a success, never a
// 500 or a panic, and /introspect's inactive answer is exactly one shape.
func FuzzRevocationEndpoints(f *testing.F) {
	ts := newTestServer(f, withConfig(func(c *testConfig) { c.PerUserIP.Max, c.PerIP.Max = 0, 0 }))
	good := decode[tokenResponse](f, ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword),
		headers: map[string]string{"Authorization": basic("billing", billingSecret)}}))
	for _, tok := range []string{good.AccessToken, good.RefreshToken, "", "a.b.c", "%zz"} {
		f.Add("/revoke", "token="+tok, basic("billing", billingSecret), "")
		f.Add("/introspect", "token="+tok+"&token_type_hint=refresh_token", basic("billing", billingSecret), "")
		f.Add("/verify", "", "Bearer "+tok, "scope=read%20write&audience=x")
	}
	f.Add("/revoke", "token=x&token=y", "", "")
	f.Add("/introspect", "client_id=default&token=x", "Basic !!", "")
	f.Add("/verify", "", "Bearer", "scope=%00")
	f.Add("/verify", "", "Bearer "+good.AccessToken, "scope=read&scope=admin&audience=x&audience=y")
	f.Fuzz(func(t *testing.T, path, body, auth, query string) {
		switch path {
		case "/revoke", "/introspect", "/verify":
		default:
			return
		}
		method := http.MethodPost
		if path == "/verify" {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: status %d for body %q: %s", path, rec.Code, body, rec.Body)
		}
		if path == "/introspect" && rec.Code == http.StatusOK {
			if b := strings.TrimSpace(rec.Body.String()); !strings.HasPrefix(b, `{"active":`) {
				t.Fatalf("introspection body %s", b)
			}
		}
	})
}

// FuzzClientAssertion throws arbitrary client assertions (and client_id
// values) at /token: whatever arrives, the answer is invalid_client,
// invalid_request or a 503, never a token, a 500 or a panic. The seeds
// include a well-signed assertion whose jti is spent, so that mutations
// reach the claim checks as well as the parser.
func FuzzClientAssertion(f *testing.F) {
	// No throttling: every input must reach the assertion checks, not a 429.
	ts := newTestServer(f, withConfig(func(c *testConfig) { c.PerUserIP.Max, c.PerIP.Max = 0, 0 }))
	p := ts.addPrograms(f)
	spent := p.keyed.sign(f, ts.assertionClaims("keyed"))
	// The handler itself: ts.do's helpers are the F's, not the fuzz target's.
	post := func(id, assertion string) *httptestRecorder {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form("grant_type", "client_credentials",
			"client_id", id, "client_assertion_type", assertionType, "client_assertion", assertion)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		return rec
	}
	if rec := post("", spent); rec.Code != http.StatusOK {
		f.Fatalf("the seed assertion: %d %s", rec.Code, rec.Body)
	}
	f.Add("", spent)
	f.Add("keyed", spent)
	f.Add("pod", spent)
	f.Add("", p.other.sign(f, ts.assertionClaims("keyed")))
	f.Add("", "a.b.c")
	f.Add("keyed", "")
	f.Fuzz(func(t *testing.T, id, assertion string) {
		rec := post(id, assertion)
		var e errorResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		switch {
		case rec.Code == http.StatusUnauthorized && e.Error == "invalid_client":
		case rec.Code == http.StatusBadRequest && e.Error == "invalid_request":
		case rec.Code == http.StatusRequestEntityTooLarge && e.Error == "invalid_request":
		case rec.Code == http.StatusServiceUnavailable:
		default:
			t.Fatalf("client_id %q, assertion %q: %d %s", id, assertion, rec.Code, rec.Body)
		}
	})
}
