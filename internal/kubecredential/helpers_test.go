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

package kubecredential_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/kubecredential"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	alicePassword = "wonderland-rabbit-42"
	clientID      = "kubectl"
	audience      = "kubernetes"
	accessTTL     = 5 * time.Minute
	// apiserverSecret is the secret of the confidential client apiserver,
	// the resource server of audience kubernetes, which introspects.
	apiserverSecret = "apiserver-secret-with-enough-entropy"
)

// testServer is a real token server on the memory store behind an
// httptest TLS server, whose CA is in caFile, counting the requests it
// serves by path.
type testServer struct {
	t      *testing.T
	issuer string
	caFile string
	srv    *authserver.Server
	keys   signer.Source
	https  *httptest.Server

	mu       sync.Mutex
	requests map[string]int
}

type option func(*authserver.Config)

// newTestServer serves alice (groups readers) and the public client
// kubectl (password and refresh_token, audience kubernetes, 5 min access
// tokens). The options change the server's configuration; one that sets
// Issuer serves the server under a name it does not have.
func newTestServer(t *testing.T, opts ...option) *testServer {
	t.Helper()
	ts := &testServer{t: t, requests: map[string]int{}}
	var handler http.Handler
	ts.https = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.requests[r.URL.Path]++
		ts.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	// The handshakes refused on purpose are not logged.
	ts.https.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.https.StartTLS()
	t.Cleanup(ts.https.Close)
	ts.issuer = ts.https.URL
	ts.caFile = filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.https.Certificate().Raw})
	if err := os.WriteFile(ts.caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	ts.keys = signer.Static(authtest.KeySet(t, signer.AlgES256))
	cfg := authserver.Config{
		Issuer:         ts.issuer,
		Store:          memory.New(),
		Keys:           ts.keys,
		HashParams:     authtest.FastParams,
		PerUserIP:      throttle.Limit{Max: 5, Window: time.Minute},
		PerIP:          throttle.Limit{Max: 50, Window: time.Minute},
		KnownFor:       24 * time.Hour,
		Logger:         slog.New(slog.DiscardHandler),
		RevocationWait: 5 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	if err := cfg.Store.PutUser(ctx, store.User{
		Username: "alice", PasswordHash: authtest.Hash(t, alicePassword), Groups: []string{"readers"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Store.PutClient(ctx, store.Client{
		ID: clientID, GrantTypes: []string{"password", "refresh_token"},
		Audiences: []string{audience}, AccessTokenTTL: accessTTL,
	}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Store.PutClient(ctx, store.Client{
		ID: "apiserver", SecretHash: store.HashClientSecret(apiserverSecret),
		GrantTypes: []string{"password"}, Audiences: []string{audience},
	}); err != nil {
		t.Fatal(err)
	}
	srv, err := authserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, handler = srv, srv.Handler()
	runCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.Start(runCtx)
	authtest.Eventually(t, "the revocation mirror to load", srv.Mirror().Fresh)
	return ts
}

// count is how many requests the server has served at path.
func (ts *testServer) count(path string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests[path]
}

// total is how many requests the server has served.
func (ts *testServer) total() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	n := 0
	for _, c := range ts.requests {
		n += c
	}
	return n
}

// client is a kubecredential.Client for alice through kubectl, trusting
// the server's CA, with a cache of its own, the fake clock and a password
// source that counts its calls.
type client struct {
	*kubecredential.Client
	clock     *clocktesting.FakeClock
	password  string
	passwords atomic.Int32
}

func (ts *testServer) client() *client {
	ts.t.Helper()
	hc, err := kubecredential.NewHTTPClient(ts.caFile, false)
	if err != nil {
		ts.t.Fatal(err)
	}
	c := &client{clock: clocktesting.NewFakeClock(time.Now()), password: alicePassword}
	c.Client = &kubecredential.Client{
		Key:   kubecredential.Key{Issuer: ts.issuer, ClientID: clientID, Username: "alice"},
		HTTP:  hc,
		Cache: &kubecredential.Cache{Dir: filepath.Join(ts.t.TempDir(), "cache", "authstack")},
		Password: func() (string, error) {
			c.passwords.Add(1)
			return c.password, nil
		},
		Clock: c.clock,
	}
	return c
}

// validator checks access tokens as kube-apiserver's JWT authenticator
// would: the issuer, the audience kubernetes, the server's keys.
func (ts *testServer) validator() *accesstoken.Validator {
	return &accesstoken.Validator{Keys: ts.keys, Issuer: ts.issuer, Audiences: []string{audience}}
}

// active is whether /introspect, asked by the apiserver client (whose
// audience the tokens carry), says token is active.
func (ts *testServer) active(token string) bool {
	ts.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.issuer+"/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("apiserver", apiserverSecret)
	resp, err := ts.https.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return body.Active
}

// post posts a form to the server at path and returns the status.
func (ts *testServer) post(path string, form url.Values) int {
	ts.t.Helper()
	resp, err := ts.https.Client().Post(ts.issuer+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
