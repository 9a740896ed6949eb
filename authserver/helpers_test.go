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
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	issuer          = "https://auth.example.test"
	alicePassword   = "wonderland-rabbit-42"
	bobPassword     = "builder-bob-77"
	carolPassword   = "carol-is-disabled"
	billingSecret   = "billing-secret-with-enough-entropy"
	billingAudience = "https://billing.example.test"
)

type testServer struct {
	t       testing.TB
	srv     *authserver.Server
	cfg     authserver.Config
	store   store.Store
	keys    signer.Source
	handler http.Handler
	logs    *authtest.SyncBuffer
	// trail receives the audit trail.
	trail *authtest.SyncBuffer
	clock *clocktesting.FakeClock
}

type option func(*authserver.Config)

func withStore(s store.Store) option               { return func(c *authserver.Config) { c.Store = s } }
func withConfig(f func(*authserver.Config)) option { return f }

// newTestServer builds a token server on the memory store (or the given one)
// with users alice (argon2id), bob (bcrypt), carol (disabled) and clients
// billing (confidential), cli (public) and refresh-only.
func newTestServer(t testing.TB, opts ...option) *testServer {
	t.Helper()
	ts := &testServer{t: t, logs: &authtest.SyncBuffer{}, trail: &authtest.SyncBuffer{}, clock: clocktesting.NewFakeClock(time.Now())}
	ts.keys = signer.Static(authtest.KeySet(t, signer.AlgES256))
	cfg := authserver.Config{
		Issuer:         issuer,
		Store:          memory.New(),
		Keys:           ts.keys,
		PublicClientID: "default",
		HashParams:     authtest.FastParams,
		PerUserIP:      throttle.Limit{Max: 5, Window: time.Minute},
		PerIP:          throttle.Limit{Max: 20, Window: time.Minute},
		KnownFor:       24 * time.Hour,
		Logger:         slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Audit:          audit.New(ts.trail, ts.clock),
		Clock:          ts.clock,
		// Short waits: caughtUp does not sit out an idle wait.
		RevocationWait: 5 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ts.store = cfg.Store
	ctx := context.Background()
	bobHash, err := bcrypt.GenerateFromPassword([]byte(bobPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{Username: "alice", PasswordHash: authtest.Hash(t, alicePassword), Scopes: []string{"read", "write"}, Groups: []string{"readers", "writers"}},
		{Username: "bob", PasswordHash: string(bobHash), Scopes: []string{"read"}},
		{Username: "carol", PasswordHash: authtest.Hash(t, carolPassword), Scopes: []string{"read"}, Disabled: true},
	} {
		if err := cfg.Store.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []store.Client{
		{ID: "billing", SecretHash: store.HashClientSecret(billingSecret), GrantTypes: []string{"password", "refresh_token"},
			Scopes: []string{"read", "write"}, Audiences: []string{billingAudience}, AccessTokenTTL: 5 * time.Minute},
		{ID: "cli", GrantTypes: []string{"password"}, Scopes: []string{"read"}},
		{ID: "refresh-only", GrantTypes: []string{"refresh_token"}},
	} {
		if err := cfg.Store.PutClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := authserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.cfg, ts.handler = srv, cfg, srv.Handler()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.Start(ctx)
	ts.waitFresh()
	return ts
}

// waitFresh waits until the server's revocation mirror has caught up with
// the store: it follows the store's change log, so a change (a revocation,
// a disabled user) reaches validation a moment after it was written.
func (ts *testServer) waitFresh() {
	ts.t.Helper()
	authtest.Eventually(ts.t, "the revocation mirror to load", ts.srv.Mirror().Fresh)
}

// waitStale waits until the mirror, its feed stalled, is no longer fresh.
func (ts *testServer) waitStale() {
	ts.t.Helper()
	authtest.Eventually(ts.t, "the mirror to go stale with its feed stalled", func() bool { return !ts.srv.Mirror().Fresh() })
}

// caughtUp waits until the mirror holds every change written so far.
func (ts *testServer) caughtUp() {
	ts.t.Helper()
	mark := ts.srv.Mirror().Mark()
	authtest.Eventually(ts.t, "the revocation mirror to catch up with the store", func() bool { return ts.srv.Mirror().CaughtUp(mark) })
}

// request describes one HTTP request to the handler.
type request struct {
	method  string
	path    string
	body    string
	ctype   string
	headers map[string]string
	// more are added after headers, for a header sent twice.
	more   http.Header
	remote string
	// ctx, if set, is the request's context.
	ctx context.Context
}

func (ts *testServer) do(r request) *httptest.ResponseRecorder {
	ts.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = "/token"
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.ctype == "" && r.method == http.MethodPost {
		r.ctype = "application/x-www-form-urlencoded"
	}
	if r.ctype != "-" && r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	for k, vs := range r.more {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.ctx != nil {
		req = req.WithContext(r.ctx)
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec
}

// token posts a password grant with the given form values.
func (ts *testServer) token(kv ...string) *httptest.ResponseRecorder {
	ts.t.Helper()
	return ts.do(request{body: form(kv...)})
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// tokenResponse is the RFC 6749 §5.1 body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token"`
}

type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

// mustToken gets an access token for alice through the default client.
func (ts *testServer) mustToken(kv ...string) string {
	ts.t.Helper()
	if len(kv) == 0 {
		kv = []string{"grant_type", "password", "username", "alice", "password", alicePassword}
	}
	rec := ts.token(kv...)
	if rec.Code != http.StatusOK {
		ts.t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return decode[tokenResponse](ts.t, rec).AccessToken
}

type testConfig = authserver.Config

func storeClient(id, secret string) store.Client {
	c := store.Client{ID: id, GrantTypes: []string{"password"}}
	if secret != "" {
		c.SecretHash = store.HashClientSecret(secret)
	}
	return c
}

func bcryptUser(t *testing.T, name, pw string) store.User {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return store.User{Username: name, PasswordHash: string(h)}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// parseUnverified reads a token's claims without checking it.
func parseUnverified(t *testing.T, tok string) *accesstoken.Claims {
	t.Helper()
	var c accesstoken.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// publicKeyFromJWKS returns the P-256 key kid from a JWKS document.
func publicKeyFromJWKS(t *testing.T, doc []byte, kid string) *ecdsa.PublicKey {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["kid"] != kid {
			continue
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("JWKS publishes private member %q", private)
			}
		}
		if k["kty"] != "EC" || k["crv"] != "P-256" {
			t.Fatalf("key %v is not P-256", k)
		}
		x, y := mustB64(t, k["x"].(string)), mustB64(t, k["y"].(string))
		raw := append([]byte{4}, append(x, y...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	t.Fatalf("kid %s not in JWKS %s", kid, doc)
	return nil
}

type httptestRecorder = httptest.ResponseRecorder

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

var billingAuth = map[string]string{"Authorization": basic("billing", billingSecret)}

// login gets alice's tokens through the confidential billing client.
func (ts *testServer) login(t *testing.T, kv ...string) tokenResponse {
	t.Helper()
	body := append([]string{"grant_type", "password", "username", "alice", "password", alicePassword}, kv...)
	rec := ts.do(request{body: form(body...), headers: billingAuth})
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tr := decode[tokenResponse](t, rec)
	if tr.RefreshToken == "" {
		t.Fatal("no refresh token for a client allowed the refresh_token grant")
	}
	return tr
}

func (ts *testServer) refresh(rt string, kv ...string) *httptest.ResponseRecorder {
	return ts.do(request{body: form(append([]string{"grant_type", "refresh_token", "refresh_token", rt}, kv...)...), headers: billingAuth})
}

func (ts *testServer) post(path string, auth map[string]string, kv ...string) *httptest.ResponseRecorder {
	return ts.do(request{path: path, body: form(kv...), headers: auth})
}

// introspect returns the introspection response for tok, asked by billing.
func (ts *testServer) introspect(t *testing.T, tok string) map[string]any {
	t.Helper()
	ts.caughtUp()
	rec := ts.post("/introspect", billingAuth, "token", tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("introspect: %d %s", rec.Code, rec.Body)
	}
	return decode[map[string]any](t, rec)
}

func active(m map[string]any) bool { return m["active"] == true }

// sessionOf is the store's key of a refresh token's session.
func sessionOf(t *testing.T, raw string) string {
	t.Helper()
	tok, ok := session.Parse(raw)
	if !ok {
		t.Fatalf("not a refresh token: %q", raw)
	}
	return tok.ID()
}
