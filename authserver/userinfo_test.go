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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/resourceserver"
)

type userinfoResponse struct {
	Sub               string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
	Scope             string   `json:"scope"`
	ClientID          string   `json:"client_id"`
}

func (ts *testServer) userinfo(auth string) *httptestRecorder {
	h := map[string]string{}
	if auth != "" {
		h["Authorization"] = auth
	}
	return ts.do(request{method: http.MethodGet, path: "/userinfo", headers: h})
}

func TestUserinfo(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	rec := ts.userinfo("Bearer " + tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	info := decode[userinfoResponse](t, rec)
	if info.Sub != "alice" || info.PreferredUsername != "alice" || !slices.Equal(info.Groups, []string{"readers", "writers"}) ||
		info.Scope != "read write" || info.ClientID != "default" {
		t.Errorf("userinfo %+v", info)
	}
	// The scheme is case-insensitive (RFC 7235 §2.1).
	if rec := ts.userinfo("bearer " + tok); rec.Code != http.StatusOK {
		t.Errorf("lower-case scheme: %d", rec.Code)
	}
	if rec := ts.do(request{method: http.MethodDelete, path: "/userinfo"}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", rec.Code)
	}
}

// RFC 6750 §3: the challenge and status for each kind of failure.
func TestUserinfoBearerErrors(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	cases := []struct {
		name, auth string
		status     int
		challenge  string
	}{
		{"no credentials", "", 401, `Bearer realm="authstack"`},
		{"basic scheme", "Basic YTpi", 401, `Bearer realm="authstack"`},
		{"malformed header", "Bearer two words", 400, `error="invalid_request"`},
		{"garbage token", "Bearer abc.def.ghi", 401, `error="invalid_token"`},
		{"modified payload", "Bearer " + tamper(t, tok), 401, `error="invalid_token"`},
		{"1 MB token", "Bearer " + strings.Repeat("A", 1<<20), 401, `error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := ts.userinfo(c.auth)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			ch := rec.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="authstack"`) || !strings.Contains(ch, c.challenge) {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", ch, c.challenge)
			}
			if c.auth == "" && (strings.Contains(ch, "error=") || rec.Body.Len() != 0) {
				t.Errorf("a request without credentials must get no error information: %q %q", ch, rec.Body)
			}
		})
	}
}

// Two Authorization headers get the Go middleware's answer at /userinfo
// and /verify: 400 invalid_request, whichever comes first, instead of
// using the first (a gateway may have read the other).
func TestBearerEndpointsRefuseTwoAuthorizationHeaders(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	mw, err := resourceserver.New(resourceserver.Options{Issuer: issuer, Audiences: []string{issuer}, Keys: ts.keys})
	if err != nil {
		t.Fatal(err)
	}
	protected := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the middleware let the request through") }))
	for name, auth := range map[string][]string{
		"good then bad":    {"Bearer " + tok, "Bearer x"},
		"bad then good":    {"Bearer x", "Bearer " + tok},
		"the same twice":   {"Bearer " + tok, "Bearer " + tok},
		"bearer and basic": {"Bearer " + tok, "Basic YTpi"},
		"empty and good":   {"", "Bearer " + tok},
	} {
		req := httptest.NewRequest(http.MethodGet, "/resource", nil)
		req.Header["Authorization"] = auth
		want := httptest.NewRecorder()
		protected.ServeHTTP(want, req)
		if want.Code != http.StatusBadRequest {
			t.Fatalf("%s: the middleware answered %d", name, want.Code)
		}
		for _, path := range []string{"/userinfo", "/verify", "/verify/invoices"} {
			ts.caughtUp()
			rec := ts.do(request{method: http.MethodGet, path: path, more: http.Header{"Authorization": auth}})
			if rec.Code != want.Code || rec.Header().Get("WWW-Authenticate") != want.Header().Get("WWW-Authenticate") ||
				rec.Body.String() != want.Body.String() {
				t.Errorf("%s at %s: %d %q %s, want the middleware's %d %q %s", name, path,
					rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body, want.Code, want.Header().Get("WWW-Authenticate"), want.Body)
			}
		}
	}
}

func TestUserinfoExpiredToken(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	ts.clock.Step(16 * time.Minute)
	rec := ts.userinfo("Bearer " + tok)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// A token stops working when its user is disabled, deleted, or given a
// not-before time after the token was issued.
func TestUserinfoChecksTheCurrentUserRecord(t *testing.T) {
	for name, change := range map[string]func(*testServer, store.User) error{
		"disabled": func(ts *testServer, u store.User) error { u.Disabled = true; return ts.store.PutUser(t.Context(), u) },
		"deleted": func(ts *testServer, u store.User) error {
			return ts.store.(conformance.Store).DeleteUser(t.Context(), u.Username)
		},
		"not-before": func(ts *testServer, u store.User) error {
			u.NotBefore = ts.clock.Now().Add(time.Second)
			return ts.store.PutUser(t.Context(), u)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			tok := ts.mustToken()
			u, err := ts.store.GetUser(t.Context(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			if err := change(ts, u); err != nil {
				t.Fatal(err)
			}
			ts.caughtUp()
			ts.clock.Step(2 * time.Second)
			rec := ts.userinfo("Bearer " + tok)
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
				t.Fatalf("%d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	// A token issued after the not-before time works.
	ts := newTestServer(t)
	u, _ := ts.store.GetUser(t.Context(), "alice")
	u.NotBefore = ts.clock.Now().Add(-time.Minute)
	if err := ts.store.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if rec := ts.userinfo("Bearer " + ts.mustToken()); rec.Code != http.StatusOK {
		t.Fatalf("token after not-before: %d %s", rec.Code, rec.Body)
	}
}

// tamper changes the payload and keeps the signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	orig := string(mustB64(t, parts[1]))
	payload := strings.Replace(orig, `"sub":"alice"`, `"sub":"bob"`, 1)
	if payload == orig {
		t.Fatalf("payload %s has no sub to change", orig)
	}
	return parts[0] + "." + b64url(payload) + "." + parts[2]
}

func TestUserinfoSaysWhyATokenIsInvalid(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	ts.clock.Step(time.Hour)
	ch := ts.userinfo("Bearer " + tok).Header().Get("WWW-Authenticate")
	if !strings.Contains(ch, `error_description="token expired"`) {
		t.Fatalf("challenge %q", ch)
	}
}

// /userinfo takes tokens meant for this server (aud holds the issuer), not
// every token it signs: one minted for another resource is refused there.
func TestUserinfoRequiresTheIssuerAudience(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.DefaultAudience = []string{"https://api.example.test"} }))
	tok := ts.mustToken()
	if rec := ts.userinfo("Bearer " + tok); rec.Code != http.StatusUnauthorized ||
		!strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("token for another audience at /userinfo: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if err := ts.store.PutClient(t.Context(), store.Client{ID: "portal", Audiences: []string{"https://api.example.test", issuer}}); err != nil {
		t.Fatal(err)
	}
	tok = ts.mustToken("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "portal")
	if rec := ts.userinfo("Bearer " + tok); rec.Code != http.StatusOK {
		t.Fatalf("token whose aud holds the issuer: %d %s", rec.Code, rec.Body)
	}
}
