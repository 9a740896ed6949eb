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
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// These tests run the middleware against the real token server: tokens
// come from its password grant, keys from its metadata and JWKS endpoints
// over TLS.

func TestEndToEndValidToken(t *testing.T) {
	ts := newTokenServer(t)
	clk := newClock()
	m := ts.middleware(clk)
	rec := call(m.Handler(echoClaims), "Bearer "+ts.token("alice", alicePassword))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got struct {
		Sub      string   `json:"sub"`
		Scope    string   `json:"scope"`
		Groups   []string `json:"groups"`
		ClientID string   `json:"client_id"`
	}
	must(t, json.Unmarshal(rec.Body.Bytes(), &got))
	if got.Sub != "alice" || got.Scope != "read admin" || got.ClientID != "default" || !slices.Equal(got.Groups, []string{"readers", "admins"}) {
		t.Errorf("claims in context %+v", got)
	}
	if n := ts.metaFetches.Load(); n != 1 {
		t.Errorf("%d metadata fetches, want 1", n)
	}
}

func TestEndToEndRejectsBadTokens(t *testing.T) {
	ts := newTokenServer(t)
	clk := newClock()
	h := ts.middleware(clk).Handler(echoClaims)
	tok := ts.token("alice", alicePassword)
	parts := strings.Split(tok, ".")
	key := ts.keys.Current().Active

	// The token's claims re-signed by a key of our own under the server's kid.
	forged := func() string {
		var c accesstoken.Claims
		_, _, err := jwt.NewParser().ParseUnverified(tok, &c)
		must(t, err)
		j := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		j.Header["kid"], j.Header["typ"] = key.ID, "at+jwt"
		s, err := j.SignedString(authtest.Key(t, signer.AlgES256).Private)
		must(t, err)
		return s
	}()
	// The same claims with sub changed, the signature kept.
	tampered := func() string {
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		must(t, err)
		p := strings.Replace(string(payload), `"sub":"alice"`, `"sub":"admin"`, 1)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + parts[2]
	}()
	// Algorithm confusion: "none", and HS256 keyed with the public key.
	header := func(alg string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":%q,"kid":%q,"typ":"at+jwt"}`, alg, key.ID)))
	}
	none := header("none") + "." + parts[1] + "."
	hs256 := func(secret []byte) string {
		var c accesstoken.Claims
		_, _, err := jwt.NewParser().ParseUnverified(tok, &c)
		must(t, err)
		j := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		j.Header["kid"], j.Header["typ"] = key.ID, "at+jwt"
		s, err := j.SignedString(secret)
		must(t, err)
		return s
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public)
	must(t, err)
	jwks, err := json.Marshal(key.JWK())
	must(t, err)

	for name, tc := range map[string]struct {
		token, desc string
	}{
		"wrong audience":       {ts.token("alice", alicePassword, "client_id", "other"), "wrong audience"},
		"forged signature":     {forged, "invalid signature"},
		"tampered payload":     {tampered, "invalid signature"},
		"signature cut":        {parts[0] + "." + parts[1] + ".", "invalid signature"},
		"alg none":             {none, "algorithm"},
		"HS256 with PEM key":   {hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "algorithm"},
		"HS256 with DER key":   {hs256(der), "algorithm"},
		"HS256 with the JWK":   {hs256(jwks), "algorithm"},
		"typ JWT":              {base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"ES256","kid":%q,"typ":"JWT"}`, key.ID))) + "." + parts[1] + "." + parts[2], "type"},
		"another issuer's key": {newStaticIssuer(t, nil).token(t, apiAudience), "unknown key id"},
		"another issuer's name": {func() string {
			// Signed by the server's own key, but naming another issuer.
			is := &accesstoken.Issuer{Keys: ts.keys, Issuer: "https://evil.example.test"}
			s, _, err := is.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "default", Audience: []string{apiAudience}, Scopes: []string{"admin"}, TTL: time.Hour})
			must(t, err)
			return s
		}(), "wrong issuer"},
	} {
		t.Run(name, func(t *testing.T) {
			expectError(t, call(h, "Bearer "+tc.token), http.StatusUnauthorized, "invalid_token", tc.desc)
		})
	}

	t.Run("expired", func(t *testing.T) {
		clk.Step(15*time.Minute + accesstoken.DefaultLeeway + time.Second)
		expectError(t, call(h, "Bearer "+tok), http.StatusUnauthorized, "invalid_token", "expired")
	})
}

// After a key rotation at the server, the first token signed by the new
// key makes the middleware fetch the JWKS again, then it is accepted.
func TestEndToEndKeyRotationRefetch(t *testing.T) {
	ts := newTokenServer(t)
	clk := newClock()
	h := ts.middleware(clk).Handler(echoClaims)
	old := ts.token("alice", alicePassword)
	if rec := call(h, "Bearer "+old); rec.Code != http.StatusOK {
		t.Fatalf("before rotation: %d %s", rec.Code, rec.Body)
	}
	if n := ts.jwksFetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}

	ts.rotate()
	fresh := ts.token("alice", alicePassword)
	if rec := call(h, "Bearer "+fresh); rec.Code != http.StatusOK {
		t.Fatalf("token of the new key: %d %s", rec.Code, rec.Body)
	}
	if n := ts.jwksFetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches, want 2", n)
	}
	// The previous key is still published, so its tokens still pass, with
	// no further fetch.
	if rec := call(h, "Bearer "+old); rec.Code != http.StatusOK {
		t.Errorf("token of the previous key: %d %s", rec.Code, rec.Body)
	}
	if n := ts.jwksFetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches, want 2", n)
	}
}

// Unknown kids cause at most one fetch per refetch interval, however many
// requests carry them; concurrent ones share it.
func TestEndToEndRefetchRateLimit(t *testing.T) {
	ts := newTokenServer(t)
	clk := newClock()
	h := ts.middleware(clk).Handler(echoClaims)
	foreign := newStaticIssuer(t, nil).token(t, apiAudience) // a kid the server never had

	expectError(t, call(h, "Bearer "+foreign), http.StatusUnauthorized, "invalid_token", "unknown key id")
	if n := ts.jwksFetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2 (start, refetch)", n)
	}
	for range 20 {
		expectError(t, call(h, "Bearer "+foreign), http.StatusUnauthorized, "invalid_token", "unknown key id")
	}
	// A real rotation within the interval: the new key waits for it too.
	ts.rotate()
	fresh := ts.token("alice", alicePassword)
	expectError(t, call(h, "Bearer "+fresh), http.StatusUnauthorized, "invalid_token", "unknown key id")
	if n := ts.jwksFetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches within the interval, want 2", n)
	}

	clk.Step(resourceserver.DefaultRefetchInterval)
	// Concurrent requests with the new kid share one fetch.
	gate := make(chan struct{})
	ts.jwksGate.Store(&gate)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Go(func() { codes[i] = call(h, "Bearer "+fresh).Code })
	}
	authtest.Eventually(t, "the refetch", func() bool { return ts.jwksFetches.Load() == 3 })
	time.Sleep(20 * time.Millisecond)
	ts.jwksGate.Store(nil)
	close(gate)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: %d", i, c)
		}
	}
	if n := ts.jwksFetches.Load(); n != 3 {
		t.Errorf("%d JWKS fetches, want 3", n)
	}
}

// With the JWKS endpoint down, refreshes fail and the last good set keeps
// serving.
func TestEndToEndJWKSDownKeepsLastGoodSet(t *testing.T) {
	ts := newTokenServer(t)
	clk := newClock()
	var rk *resourceserver.RemoteKeys
	m := ts.middleware(clk, func(o *resourceserver.Options) {
		r, err := resourceserver.NewRemoteKeys(resourceserver.RemoteKeysOptions{
			Issuer: ts.issuer, HTTPClient: ts.srv.Client(), Clock: clk, Logger: discard,
			MinRefreshInterval: 10 * time.Millisecond, MaxRefreshInterval: 10 * time.Millisecond,
		})
		must(t, err)
		t.Cleanup(r.Close)
		o.Keys, rk = r, r
	})
	h := m.Handler(echoClaims)
	tok := ts.token("alice", alicePassword)

	ts.jwksDown.Store(true)
	n := ts.jwksFetches.Load()
	authtest.Eventually(t, "failed background refreshes", func() bool { return ts.jwksFetches.Load() >= n+3 })
	if err := rk.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Refresh = %v, want the 503", err)
	}
	if rec := call(h, "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("with the JWKS down: %d %s", rec.Code, rec.Body)
	}
	// An unknown kid while down: the refetch fails, the token is refused,
	// known tokens still pass.
	clk.Step(resourceserver.DefaultRefetchInterval)
	ts.rotate()
	expectError(t, call(h, "Bearer "+ts.token("alice", alicePassword)), http.StatusUnauthorized, "invalid_token", "unknown key id")
	if rec := call(h, "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("known key after a failed refetch: %d", rec.Code)
	}
	ts.jwksDown.Store(false)
	fresh := ts.token("alice", alicePassword)
	authtest.Eventually(t, "recovery", func() bool { return call(h, "Bearer "+fresh).Code == http.StatusOK })
}

// The JWKS never loads: requests with a token are refused with 503.
func TestEndToEndKeysNeverLoaded(t *testing.T) {
	ts := newTokenServer(t)
	ts.jwksDown.Store(true)
	m, err := resourceserver.New(resourceserver.Options{
		Issuer: ts.issuer, Audiences: []string{apiAudience}, Logger: discard,
		Remote: resourceserver.RemoteKeysOptions{HTTPClient: ts.srv.Client(), Logger: discard},
	})
	must(t, err)
	defer m.Close()
	authtest.Eventually(t, "a failed fetch", func() bool { return ts.jwksFetches.Load() > 0 })
	if m.Ready() {
		t.Fatal("ready without keys")
	}
	rec := call(m.Handler(echoClaims), "Bearer "+ts.token("alice", alicePassword))
	expectError(t, rec, http.StatusServiceUnavailable, "temporarily_unavailable", "keys")
}

func TestEndToEndScopes(t *testing.T) {
	ts := newTokenServer(t)
	m := ts.middleware(newClock())
	mux := http.NewServeMux()
	mux.Handle("/api/thing", m.RequireScopes("admin")(echoClaims))
	h := m.Handler(mux)

	if rec := call(h, "Bearer "+ts.token("alice", alicePassword)); rec.Code != http.StatusOK {
		t.Errorf("alice (admin): %d %s", rec.Code, rec.Body)
	}
	for name, tok := range map[string]string{
		"bob":               ts.token("bob", bobPassword),
		"alice, scope read": ts.token("alice", alicePassword, "scope", "read"),
	} {
		rec := call(h, "Bearer "+tok)
		expectError(t, rec, http.StatusForbidden, "insufficient_scope", "scope")
		if wa := rec.Header().Get("WWW-Authenticate"); !strings.Contains(wa, `scope="admin"`) {
			t.Errorf("%s: WWW-Authenticate %q lacks scope=\"admin\"", name, wa)
		}
	}
}

func TestEndToEndRevocation(t *testing.T) {
	ts := newTokenServer(t)
	tok := ts.token("alice", alicePassword)
	for name, tc := range map[string]struct {
		err    error
		status int
		code   string
	}{
		"not revoked": {nil, http.StatusOK, ""},
		"revoked":     {fmt.Errorf("%w: token revoked", accesstoken.ErrInvalidToken), http.StatusUnauthorized, "invalid_token"},
		"stale":       {errors.New("revocation state is 40s old"), http.StatusServiceUnavailable, "temporarily_unavailable"},
	} {
		t.Run(name, func(t *testing.T) {
			fc := &fakeChecker{err: tc.err}
			h := ts.middleware(newClock(), func(o *resourceserver.Options) { o.Revocation = fc }).Handler(echoClaims)
			rec := call(h, "Bearer "+tok)
			if tc.status == http.StatusOK {
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			expectError(t, rec, tc.status, tc.code, "")
		})
	}
}
