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
