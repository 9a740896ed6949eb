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
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
)

// refetchingKeys is a key source that can refetch (a
// resourceserver.KeyRefetcher): Refetch swaps in next, if set.
type refetchingKeys struct {
	cur, next atomic.Pointer[signer.KeySet]
	refetches atomic.Int64
}

func (k *refetchingKeys) Current() *signer.KeySet { return k.cur.Load() }

func (k *refetchingKeys) Refetch(context.Context) error {
	k.refetches.Add(1)
	if n := k.next.Load(); n != nil {
		k.cur.Store(n)
	}
	return nil
}

func newKeySet(t *testing.T, active *signer.Key, more ...*signer.Key) *signer.KeySet {
	t.Helper()
	ks, err := signer.NewKeySet(active, more...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// The token server's bearer endpoints (/userinfo, /verify) and the Go
// middleware are one authenticator: for every kind of request they give
// the same status, challenge, Retry-After and body. Where the two copies
// used to differ, the answers are also stated: a token naming a key the
// source does not hold makes a refetching source fetch again (it was 401
// at the server); no keys loaded is 503 (it was 500 at the server); a
// stale revocation state is 503 "revocation state unavailable; retry
// later" (the middleware said it without "; retry later").
func TestBearerEndpointsAnswerAsTheMiddleware(t *testing.T) {
	keyA, keyC := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	keys := &refetchingKeys{}
	keys.cur.Store(newKeySet(t, keyA))
	feed := &stallingFeed{Store: memory.New()}
	ts := newTestServer(t, withStore(feed), withConfig(func(c *testConfig) {
		c.Keys = keys
		c.MaxStaleness = 100 * time.Millisecond
	}))
	// The middleware's Retry-After is an option (5 s by default); the
	// server's is a second, as for its other 503s.
	mw, err := resourceserver.New(resourceserver.Options{
		Issuer: issuer, Audiences: []string{issuer}, Keys: keys, Revocation: ts.srv.Mirror(),
		RetryAfter: time.Second, Clock: ts.clock, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	protected := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))

	// same checks that the middleware and both endpoints answer auth with
	// status and, for an error, description desc and Retry-After retry;
	// before runs before each of the three requests.
	same := func(name string, auth []string, status int, desc, retry string, before func()) {
		t.Helper()
		if before == nil {
			before = func() {}
		}
		before()
		req := httptest.NewRequest(http.MethodGet, "/resource", nil)
		req.Header["Authorization"] = auth
		want := httptest.NewRecorder()
		protected.ServeHTTP(want, req)
		if want.Code != status {
			t.Fatalf("%s: the middleware answered %d %s, want %d", name, want.Code, want.Body, status)
		}
		if status != http.StatusOK {
			if status != http.StatusUnauthorized || desc != "" {
				if got := decode[errorResponse](t, want).ErrorDescription; got != desc {
					t.Errorf("%s: the middleware's description %q, want %q", name, got, desc)
				}
			}
			if got := want.Header().Get("Retry-After"); got != retry {
				t.Errorf("%s: the middleware's Retry-After %q, want %q", name, got, retry)
			}
		}
		for _, path := range []string{"/userinfo", "/verify"} {
			before()
			rec := ts.do(request{method: http.MethodGet, path: path, more: http.Header{"Authorization": auth}})
			if rec.Code != want.Code {
				t.Errorf("%s at %s: %d %s, want the middleware's %d %s", name, path, rec.Code, rec.Body, want.Code, want.Body)
				continue
			}
			if status == http.StatusOK {
				continue
			}
			for _, h := range []string{"WWW-Authenticate", "Retry-After"} {
				if rec.Header().Get(h) != want.Header().Get(h) {
					t.Errorf("%s at %s: %s %q, want the middleware's %q", name, path, h, rec.Header().Get(h), want.Header().Get(h))
				}
			}
			if rec.Body.String() != want.Body.String() {
				t.Errorf("%s at %s: body %s, want the middleware's %s", name, path, rec.Body, want.Body)
			}
		}
	}
	bearer := func(tok string) []string { return []string{"Bearer " + tok} }

	tok := ts.mustToken() // signed by keyA
	revoked := ts.mustToken()
	if rec := ts.post("/revoke", nil, "token", revoked, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	ts.caughtUp()

	same("valid", bearer(tok), 200, "", "", nil)
	same("no credentials", nil, 401, "", "", nil)
	same("two headers", []string{"Bearer " + tok, "Bearer " + tok}, 400, "more than one authorization header", "", nil)
	same("malformed header", []string{"Bearer two words"}, 400, "malformed authorization header", "", nil)
	same("garbage", bearer("abc.def.ghi"), 401, "malformed token", "", nil)
	same("modified payload", bearer(tamper(t, tok)), 401, "invalid signature", "", nil)
	same("revoked", bearer(revoked), 401, "token revoked", "", nil)
	same("expired", bearer(tok), 401, "token expired", "", func() { ts.clock.Step(time.Hour) })
	ts.clock.Step(-3 * time.Hour)

	// keyA has left the source's set; a refetch brings it back.
	without, with := newKeySet(t, keyC), newKeySet(t, keyC, keyA)
	keys.next.Store(with)
	before := keys.refetches.Load()
	same("unknown kid, found by a refetch", bearer(tok), 200, "", "", func() { keys.cur.Store(without) })
	if got := keys.refetches.Load() - before; got != 3 {
		t.Errorf("%d refetches for three requests naming an unknown kid, want 3", got)
	}
	keys.next.Store(nil)
	same("unknown kid, not found by a refetch", bearer(tok), 401, "unknown key id", "", func() { keys.cur.Store(without) })
	before = keys.refetches.Load()
	same("known kid, bad signature", bearer(tamper(t, tok)), 401, "invalid signature", "", func() { keys.cur.Store(with) })
	if got := keys.refetches.Load() - before; got != 0 {
		t.Errorf("%d refetches for a token whose key is known", got)
	}

	same("no keys loaded", bearer(tok), 503, "signing keys not loaded yet", "1", func() { keys.cur.Store(nil) })
	keys.cur.Store(with)

	feed.stalled.Store(true)
	ts.waitStale()
	same("stale revocation state", bearer(tok), 503, "revocation state unavailable; retry later", "1", nil)
	if strings.Contains(ts.logs.String(), tok) {
		t.Error("the log holds a token")
	}
}
