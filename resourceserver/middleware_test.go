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

package resourceserver_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// fakeChecker is a RevocationChecker answering err and counting calls.
type fakeChecker struct {
	err   error
	calls atomic.Int64
}

func (f *fakeChecker) Check(*accesstoken.Claims) error {
	f.calls.Add(1)
	return f.err
}

// nilSource is a key source that never has keys.
type nilSource struct{}

func (nilSource) Current() *signer.KeySet { return nil }

func newStaticMiddleware(t testing.TB, iss *staticIssuer, mutate ...func(*resourceserver.Options)) *resourceserver.Middleware {
	t.Helper()
	o := resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience}, Keys: iss.keys, Logger: discard}
	for _, f := range mutate {
		f(&o)
	}
	m, err := resourceserver.New(o)
	must(t, err)
	t.Cleanup(m.Close)
	return m
}

func TestNewChecksOptions(t *testing.T) {
	keys := newStaticIssuer(t, nil).keys
	for name, tc := range map[string]struct {
		o    resourceserver.Options
		want string
	}{
		"no issuer":         {resourceserver.Options{Audiences: []string{apiAudience}, Keys: keys}, "issuer"},
		"no audience":       {resourceserver.Options{Issuer: testIssuer, Keys: keys}, "audience"},
		"empty audience":    {resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience, ""}, Keys: keys}, "audience"},
		"bad scope":         {resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience}, Keys: keys, RequiredScopes: []string{"a b"}}, "scope"},
		"http issuer":       {resourceserver.Options{Issuer: "http://auth.example.test", Audiences: []string{apiAudience}}, "https"},
		"relative issuer":   {resourceserver.Options{Issuer: "auth.example.test", Audiences: []string{apiAudience}}, "absolute"},
		"other remote":      {resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience}, Remote: resourceserver.RemoteKeysOptions{Issuer: "https://evil.example.test"}}, "remote issuer"},
		"http jwks url":     {resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience}, Remote: resourceserver.RemoteKeysOptions{JWKSURL: "http://auth.example.test/jwks"}}, "https"},
		"min over max":      {resourceserver.Options{Issuer: testIssuer, Audiences: []string{apiAudience}, Remote: resourceserver.RemoteKeysOptions{MinRefreshInterval: time.Hour, MaxRefreshInterval: time.Minute}}, "exceeds"},
		"issuer with query": {resourceserver.Options{Issuer: testIssuer + "#x", Audiences: []string{apiAudience}}, "absolute"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := resourceserver.New(tc.o)
			if err == nil {
				m.Close()
				t.Fatal("New accepted the options")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestMiddlewareAnswers covers the RFC 6750 answer to each kind of request.
func TestMiddlewareAnswers(t *testing.T) {
	clk := newClock()
	iss := newStaticIssuer(t, clk)
	m := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Clock = clk })
	h := m.Handler(echoClaims)
	tok := iss.token(t, apiAudience, "read")
	other := newStaticIssuer(t, clk)

	for _, tc := range []struct {
		name   string
		auth   []string
		status int
		code   string
		desc   string
	}{
		{"valid", []string{"Bearer " + tok}, 200, "", ""},
		{"lower-case scheme", []string{"bearer " + tok}, 200, "", ""},
		{"no header", nil, 401, "", ""},
		{"empty header", []string{""}, 401, "", ""},
		{"basic scheme", []string{"Basic YTpi"}, 401, "", ""},
		{"DPoP scheme", []string{"DPoP " + tok}, 401, "", ""},
		{"bearer without token", []string{"Bearer"}, 400, "invalid_request", "malformed"},
		{"two spaces", []string{"Bearer  " + tok}, 400, "invalid_request", "malformed"},
		{"trailing space", []string{"Bearer " + tok + " "}, 400, "invalid_request", "malformed"},
		{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, 400, "invalid_request", "more than one"},
		{"garbage token", []string{"Bearer abc"}, 401, "invalid_token", "malformed"},
		{"wrong audience", []string{"Bearer " + iss.token(t, otherAudience, "read")}, 401, "invalid_token", "wrong audience"},
		{"foreign key", []string{"Bearer " + other.token(t, apiAudience, "read")}, 401, "invalid_token", "unknown key id"},
		{"too large", []string{"Bearer " + tok + strings.Repeat("A", accesstoken.DefaultMaxTokenBytes)}, 401, "invalid_token", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := call(h, tc.auth...)
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				var got map[string]any
				must(t, json.Unmarshal(rec.Body.Bytes(), &got))
				if got["sub"] != "alice" || got["scope"] != "read" || got["client_id"] != "cli" {
					t.Errorf("claims in context %v", got)
				}
				return
			}
			expectError(t, rec, tc.status, tc.code, tc.desc)
			if tc.code == "" {
				if rec.Body.Len() != 0 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="authstack"` {
					t.Errorf("want a bare challenge; got %q %q", rec.Header().Get("WWW-Authenticate"), rec.Body)
				}
			}
			if strings.Contains(rec.Body.String(), tok) || strings.Contains(rec.Header().Get("WWW-Authenticate"), tok) {
				t.Error("the answer echoes the token")
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		clk.Step(time.Hour + accesstoken.DefaultLeeway + time.Second)
		defer clk.Step(-(time.Hour + accesstoken.DefaultLeeway + time.Second))
		expectError(t, call(h, "Bearer "+tok), 401, "invalid_token", "expired")
	})
}

// Tokens are read from the Authorization header only (RFC 6750 §2.2 and
// §2.3 are not supported).
func TestMiddlewareIgnoresQueryAndFormTokens(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	h := newStaticMiddleware(t, iss).Handler(echoClaims)
	tok := iss.token(t, apiAudience, "read")

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/thing?access_token="+tok, nil))
	expectError(t, rec, 401, "", "")

	req := httptest.NewRequest(http.MethodPost, "/api/thing", strings.NewReader(url.Values{"access_token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	expectError(t, rec, 401, "", "")
}

func TestMiddlewareKeysNotLoaded(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	m := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Keys = nilSource{}; o.RetryAfter = 7 * time.Second })
	if m.Ready() {
		t.Error("Ready without keys")
	}
	h := m.Handler(echoClaims)
	rec := call(h, "Bearer "+iss.token(t, apiAudience))
	expectError(t, rec, 503, "temporarily_unavailable", "keys")
	if ra := rec.Header().Get("Retry-After"); ra != "7" {
		t.Errorf("Retry-After %q, want 7", ra)
	}
	// Without a token the answer is still the challenge.
	expectError(t, call(h), 401, "", "")
}

func TestMiddlewareRevocation(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	tok := iss.token(t, apiAudience, "read")
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		desc   string
	}{
		{"not revoked", nil, 200, "", ""},
		{"revoked", fmt.Errorf("%w: token revoked", accesstoken.ErrInvalidToken), 401, "invalid_token", "token revoked"},
		{"user disabled", accesstoken.Invalid("user disabled"), 401, "invalid_token", "user disabled"},
		// The reason of an error accesstoken did not make is not read out
		// of its text: only accesstoken.Invalid gives one.
		{"user disabled, by hand", fmt.Errorf("%w: user disabled", accesstoken.ErrInvalidToken), 401, "invalid_token", "token revoked"},
		{"accesstoken.Invalid", accesstoken.Invalid("token from an earlier store epoch"), 401, "invalid_token", "earlier store epoch"},
		{"accesstoken.Invalid wrapped", fmt.Errorf("mirror: %w", accesstoken.Invalid("token revoked")), 401, "invalid_token", "token revoked"},
		// A revocation error of another form: its text is not shown.
		{"revoked, odd message", fmt.Errorf("mirror rev 42 says jti abc: %w", accesstoken.ErrInvalidToken), 401, "invalid_token", "token revoked"},
		{"stale", errors.New("revocation mirror stale for 45s"), 503, "temporarily_unavailable", "revocation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeChecker{err: tc.err}
			h := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Revocation = fc }).Handler(echoClaims)
			rec := call(h, "Bearer "+tok)
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			} else {
				expectError(t, rec, tc.status, tc.code, tc.desc)
				if strings.Contains(rec.Body.String(), "mirror") {
					t.Errorf("the answer shows the checker's details: %s", rec.Body)
				}
			}
			if fc.calls.Load() != 1 {
				t.Errorf("checker called %d times", fc.calls.Load())
			}
			// An invalid token is refused before the checker is asked.
			call(h, "Bearer "+iss.token(t, otherAudience))
			if fc.calls.Load() != 1 {
				t.Errorf("checker asked about an invalid token")
			}
		})
	}
}

func TestMiddlewareScopes(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	read := iss.token(t, apiAudience, "read")
	readAdmin := iss.token(t, apiAudience, "read", "admin")
	none := iss.token(t, apiAudience)

	t.Run("required on every route", func(t *testing.T) {
		h := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.RequiredScopes = []string{"read"} }).Handler(echoClaims)
		if rec := call(h, "Bearer "+read); rec.Code != 200 {
			t.Errorf("status %d", rec.Code)
		}
		rec := call(h, "Bearer "+none)
		expectError(t, rec, 403, "insufficient_scope", "scope")
		if wa := rec.Header().Get("WWW-Authenticate"); !strings.Contains(wa, `scope="read"`) {
			t.Errorf("WWW-Authenticate %q lacks the scope", wa)
		}
	})

	t.Run("per route behind Handler", func(t *testing.T) {
		fc := &fakeChecker{}
		m := newStaticMiddleware(t, iss, func(o *resourceserver.Options) {
			o.RequiredScopes = []string{"read"}
			o.Revocation = fc
		})
		mux := http.NewServeMux()
		mux.Handle("/api/thing", m.RequireScopes("admin")(echoClaims))
		h := m.Handler(mux)
		if rec := call(h, "Bearer "+readAdmin); rec.Code != 200 {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if fc.calls.Load() != 1 {
			t.Errorf("token checked %d times, want once", fc.calls.Load())
		}
		rec := call(h, "Bearer "+read)
		expectError(t, rec, 403, "insufficient_scope", "")
		if wa := rec.Header().Get("WWW-Authenticate"); !strings.Contains(wa, `scope="read admin"`) {
			t.Errorf("WWW-Authenticate %q, want the route's scopes", wa)
		}
	})

	t.Run("per route alone", func(t *testing.T) {
		m := newStaticMiddleware(t, iss)
		h := m.RequireScopes("admin", "read")(echoClaims)
		if rec := call(h, "Bearer "+readAdmin); rec.Code != 200 {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		expectError(t, call(h, "Bearer "+read), 403, "insufficient_scope", "")
		expectError(t, call(h), 401, "", "")
		expectError(t, call(h, "Bearer "+iss.token(t, otherAudience, "admin", "read")), 401, "invalid_token", "audience")
	})

	t.Run("invalid scope panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("RequireScopes accepted an invalid scope")
			}
		}()
		newStaticMiddleware(t, iss).RequireScopes(`a"b`)
	})
}

// A middleware does not take the claims another one validated: each
// checks its own audience.
func TestMiddlewareStackedAudiences(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	outer := newStaticMiddleware(t, iss)
	inner := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Audiences = []string{otherAudience} })
	h := outer.Handler(inner.RequireScopes()(echoClaims))
	expectError(t, call(h, "Bearer "+iss.token(t, apiAudience)), 401, "invalid_token", "audience")
	both, _, err := iss.issuer.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "cli", Audience: []string{apiAudience, otherAudience}, TTL: time.Hour})
	must(t, err)
	if rec := call(h, "Bearer "+both); rec.Code != 200 {
		t.Errorf("token for both audiences: %d %s", rec.Code, rec.Body)
	}
}

func TestAuthenticate(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	m := newStaticMiddleware(t, iss)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.token(t, apiAudience, "read"))
	c, err := m.Authenticate(req)
	if err != nil || c.Subject != "alice" || !c.HasScope("read") {
		t.Fatalf("Authenticate = %+v, %v", c, err)
	}
	if _, ok := resourceserver.ClaimsFromContext(req.Context()); ok {
		t.Error("claims in a context no middleware handled")
	}
}

// A revocation checker that cannot tell gets a 503 with the words of the
// token server's endpoints and the configured Retry-After
// (DefaultRetryAfter by default).
func TestMiddlewareRevocationUnavailable(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	tok := iss.token(t, apiAudience, "read")
	for _, tc := range []struct {
		retryAfter time.Duration
		want       string
	}{{0, "5"}, {2 * time.Second, "2"}} {
		fc := &fakeChecker{err: errors.New("revocation mirror stale for 45s")}
		h := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Revocation = fc; o.RetryAfter = tc.retryAfter }).Handler(echoClaims)
		rec := call(h, "Bearer "+tok)
		expectError(t, rec, 503, "temporarily_unavailable", "")
		var b errorBody
		must(t, json.Unmarshal(rec.Body.Bytes(), &b))
		if b.ErrorDescription != "revocation state unavailable; retry later" || rec.Header().Get("Retry-After") != tc.want {
			t.Errorf("RetryAfter %v: %q, Retry-After %q; want %q and %s", tc.retryAfter, b.ErrorDescription, rec.Header().Get("Retry-After"),
				"revocation state unavailable; retry later", tc.want)
		}
	}
}

// The middleware logs what it refuses as the token server's endpoints do
// (oauth.Responder): a 503 at WARN with its cause, a refused token or a
// malformed request at DEBUG (the latter used not to be logged), the path
// but never the token.
func TestMiddlewareLogsRefusals(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	tok := iss.token(t, apiAudience, "read")
	var buf authtest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fc := &fakeChecker{}
	h := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.Revocation = fc; o.Logger = log }).Handler(echoClaims)

	lastLine := func() map[string]any {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var m map[string]any
		must(t, json.Unmarshal([]byte(lines[len(lines)-1]), &m))
		return m
	}
	fc.err = errors.New("revocation mirror stale for 45s")
	call(h, "Bearer "+tok)
	if l := lastLine(); l["msg"] != "Request refused" || l["level"] != "WARN" || l["status"] != float64(503) ||
		l["cause"] != "revocation mirror stale for 45s" || l["path"] != "/api/thing" {
		t.Errorf("503 logged as %v", l)
	}
	fc.err = nil
	call(h, "Bearer "+iss.token(t, otherAudience))
	if l := lastLine(); l["level"] != "DEBUG" || l["error"] != "invalid_token" || l["reason"] != "wrong audience" {
		t.Errorf("401 logged as %v", l)
	}
	call(h, "Bearer "+tok, "Bearer "+tok)
	if l := lastLine(); l["level"] != "DEBUG" || l["error"] != "invalid_request" || l["status"] != float64(400) {
		t.Errorf("400 logged as %v", l)
	}
	if strings.Contains(buf.String(), tok) {
		t.Error("the log holds the token")
	}
}

// The error of a refused token still wraps accesstoken.ErrInvalidToken.
func TestAuthenticateErrorWrapsTheCause(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	m := newStaticMiddleware(t, iss)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.token(t, otherAudience))
	if _, err := m.Authenticate(req); !errors.Is(err, accesstoken.ErrInvalidToken) {
		t.Errorf("Authenticate = %v, want an error wrapping ErrInvalidToken", err)
	}
}
