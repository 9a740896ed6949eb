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
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	apiAudience   = "https://api.example.test"
	otherAudience = "https://other.example.test"
	alicePassword = "wonderland-rabbit-42"
	bobPassword   = "builder-bob-77"
)

var discard = slog.New(slog.DiscardHandler)

// newClock is a settable clock that starts now.
func newClock() *clocktesting.FakeClock { return clocktesting.NewFakeClock(time.Now()) }

// tokenServer is a real authstack token server (memory store) behind an
// httptest TLS server. Its signing keys live in a directory watched by a
// signer.Watcher, so a test can rotate them. It counts the requests for
// the JWKS and the metadata, and can make the JWKS endpoint fail or wait.
type tokenServer struct {
	t      testing.TB
	srv    *httptest.Server
	issuer string
	keyDir string
	keys   *signer.Watcher
	store  store.Store

	jwksFetches atomic.Int64
	metaFetches atomic.Int64
	jwksDown    atomic.Bool
	jwksGate    atomic.Pointer[chan struct{}] // when set, JWKS requests wait for it to close
	api         atomic.Pointer[http.Handler]
}

// newTokenServer starts a token server with users alice (scopes read,
// admin; groups readers, admins) and bob (scope read), the built-in public
// client "default" whose tokens are for apiAudience, and a public client
// "other" whose tokens are for otherAudience.
func newTokenServer(t testing.TB) *tokenServer {
	t.Helper()
	ts := &tokenServer{t: t, keyDir: t.TempDir()}
	ts.writeKey(signer.ActiveFile, authtest.Key(t, signer.AlgES256))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var err error
	ts.keys, err = signer.WatchDir(ctx, ts.keyDir, time.Hour, discard)
	must(t, err)

	ts.srv = httptest.NewTLSServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	ts.issuer = ts.srv.URL

	st := memory.New()
	ts.store = st
	for _, u := range []store.User{
		{Username: "alice", PasswordHash: authtest.Hash(t, alicePassword), Scopes: []string{"read", "admin"}, Groups: []string{"readers", "admins"}},
		{Username: "bob", PasswordHash: authtest.Hash(t, bobPassword), Scopes: []string{"read"}},
	} {
		must(t, st.PutUser(ctx, u))
	}
	must(t, st.PutClient(ctx, store.Client{ID: "other", GrantTypes: []string{"password"}, Audiences: []string{otherAudience}}))
	as, err := authserver.New(authserver.Config{
		Issuer:          ts.issuer,
		Store:           st,
		Keys:            ts.keys,
		PublicClientID:  "default",
		DefaultAudience: []string{apiAudience},
		HashParams:      authtest.FastParams,
		Logger:          discard,
	})
	must(t, err)
	// The revocation mirror runs, as in a served token server: a login
	// checks it for a change of the user made while the password was
	// checked.
	bg, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	as.Start(bg)
	h := as.Handler()
	ts.api.Store(&h)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/jwks.json":
		ts.jwksFetches.Add(1)
		if gate := ts.jwksGate.Load(); gate != nil {
			<-*gate
		}
		if ts.jwksDown.Load() {
			oauth.WriteError(w, oauth.Unavailable("down for the test", time.Second, nil))
			return
		}
	case "/.well-known/oauth-authorization-server":
		ts.metaFetches.Add(1)
	}
	(*ts.api.Load()).ServeHTTP(w, r)
}

// token returns an access token from the password grant; kv adds form
// parameters (client_id, scope).
func (ts *tokenServer) token(user, pw string, kv ...string) string {
	ts.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	resp, err := ts.srv.Client().PostForm(ts.issuer+"/token", form)
	must(ts.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(ts.t, err)
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	must(ts.t, json.Unmarshal(body, &tr))
	return tr.AccessToken
}

// revoke revokes tok at the server (RFC 7009, as the public client that got it).
func (ts *tokenServer) revoke(tok string) {
	ts.t.Helper()
	resp, err := ts.srv.Client().PostForm(ts.issuer+"/revoke", url.Values{"token": {tok}, "client_id": {"default"}})
	must(ts.t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// rotate makes a new key the active one, keeping the previous active key
// to verify tokens it signed, and returns the new key.
func (ts *tokenServer) rotate() *signer.Key {
	ts.t.Helper()
	prev := ts.keys.Current().Active
	next := authtest.Key(ts.t, signer.AlgES256)
	ts.writeKey("previous-"+prev.ID[:8]+".pem", prev)
	ts.writeKey(signer.ActiveFile, next)
	changed, err := ts.keys.Reload()
	must(ts.t, err)
	if !changed || ts.keys.Current().Active.ID != next.ID {
		ts.t.Fatal("rotation did not take effect")
	}
	return next
}

func (ts *tokenServer) writeKey(name string, k *signer.Key) {
	ts.t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	must(ts.t, err)
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	must(ts.t, os.WriteFile(filepath.Join(ts.keyDir, name), data, 0o600))
}

// middleware returns a Middleware for the server, with keys fetched by a
// RemoteKeys (discovery from the issuer) on the clock clk, ready.
func (ts *tokenServer) middleware(clk *clocktesting.FakeClock, mutate ...func(*resourceserver.Options)) *resourceserver.Middleware {
	ts.t.Helper()
	o := resourceserver.Options{
		Issuer:    ts.issuer,
		Audiences: []string{apiAudience},
		Remote:    resourceserver.RemoteKeysOptions{HTTPClient: ts.srv.Client(), Clock: clk, Logger: discard},
		Clock:     clk,
		Logger:    discard,
	}
	for _, f := range mutate {
		f(&o)
	}
	m, err := resourceserver.New(o)
	must(ts.t, err)
	ts.t.Cleanup(m.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !m.Ready() {
		if ctx.Err() != nil {
			ts.t.Fatal("middleware keys never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// echoClaims is the protected handler of the tests: it answers 200 with
// the subject from the context, or 500 if the context has no claims.
var echoClaims = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := resourceserver.ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "no claims in context", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "scope": c.Scope, "groups": c.Groups, "client_id": c.ClientID})
})

// call sends a GET through h with the given Authorization header values
// (none for no header).
func call(h http.Handler, auth ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorBody is the RFC 6749 §5.2 body.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// expectError checks an RFC 6750 error answer.
func expectError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, descPart string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, status)
	}
	var b errorBody
	if code != "" {
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
	}
	if b.Error != code || !strings.Contains(b.ErrorDescription, descPart) {
		t.Errorf("error %+v, want %q containing %q", b, code, descPart)
	}
	wa := rec.Header().Get("WWW-Authenticate")
	switch status {
	case http.StatusUnauthorized, http.StatusBadRequest, http.StatusForbidden:
		if !strings.HasPrefix(wa, `Bearer realm="authstack"`) {
			t.Errorf("WWW-Authenticate %q", wa)
		}
		if code != "" && !strings.Contains(wa, `error="`+code+`"`) {
			t.Errorf("WWW-Authenticate %q lacks error=%q", wa, code)
		}
	case http.StatusServiceUnavailable:
		if rec.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
}

// staticIssuer issues tokens with a key of its own, for tests that do not
// need the real server.
type staticIssuer struct {
	key    *signer.Key
	keys   signer.Source
	issuer *accesstoken.Issuer
}

const testIssuer = "https://auth.example.test"

func newStaticIssuer(t testing.TB, clk clock.PassiveClock) *staticIssuer {
	t.Helper()
	ks := authtest.KeySet(t, signer.AlgES256)
	m := signer.Static(ks)
	return &staticIssuer{key: ks.Active, keys: m, issuer: &accesstoken.Issuer{Keys: m, Issuer: testIssuer, Clock: clk}}
}

func (s *staticIssuer) token(t testing.TB, aud string, scopes ...string) string {
	t.Helper()
	tok, _, err := s.issuer.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "cli", Audience: []string{aud}, Scopes: scopes, Groups: []string{"readers"}, TTL: time.Hour})
	must(t, err)
	return tok
}
