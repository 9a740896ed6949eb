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
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

// RFC 7662 §4 and §2.2: an access token is described only to its own
// client or to a client whose registered audiences it is for; any other
// confidential client gets exactly the answer for an invalid token.
func TestIntrospectAnswersOnlyClientsThatMayKnow(t *testing.T) {
	ts := newTestServer(t)
	const reportsAudience = "https://reports.example.test"
	callers := map[string]store.Client{
		// The resource server billing's tokens are for: its own tokens
		// carry the same audience.
		"billing-api": {Audiences: []string{billingAudience}},
		"reports":     {Audiences: []string{reportsAudience}},
		"portal":      {Audiences: []string{reportsAudience, issuer}},
		"no-audience": {},
	}
	for id, c := range callers {
		c.ID, c.SecretHash, c.GrantTypes = id, store.HashClientSecret(id+"-secret-with-enough-entropy"), []string{"password"}
		if err := ts.store.PutClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	billingToken := ts.login(t).AccessToken // client_id billing, aud billingAudience
	defaultToken := ts.mustToken()          // client_id default, aud the issuer
	ask := func(caller, tok string) string {
		t.Helper()
		ts.caughtUp()
		auth := billingAuth
		if caller != "billing" {
			auth = map[string]string{"Authorization": basic(caller, caller+"-secret-with-enough-entropy")}
		}
		rec := ts.post("/introspect", auth, "token", tok)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", caller, rec.Code, rec.Body)
		}
		return strings.TrimSpace(rec.Body.String())
	}
	invalid := ask("reports", "garbage")
	if invalid != `{"active":false}` {
		t.Fatalf("an invalid token: %s", invalid)
	}
	for _, tc := range []struct {
		caller, token, name string
		active              bool
	}{
		{"billing", billingToken, "its own client", true},
		{"billing-api", billingToken, "the resource server of its aud", true},
		{"reports", billingToken, "a client of another audience", false},
		{"no-audience", billingToken, "a client without audiences", false},
		{"portal", defaultToken, "a client listing the issuer", true},
		{"billing", defaultToken, "another client", false},
		{"reports", defaultToken, "a client of another audience", false},
		{"no-audience", defaultToken, "a client without audiences", false},
	} {
		got := ask(tc.caller, tc.token)
		switch {
		case tc.active && !strings.HasPrefix(got, `{"active":true,`):
			t.Errorf("%s (%s) was not told about the token: %s", tc.caller, tc.name, got)
		case !tc.active && got != invalid:
			t.Errorf("%s (%s) got %s, want exactly the answer for an invalid token %s", tc.caller, tc.name, got, invalid)
		}
	}
}

// stallingFeed is a store whose revocation feed can be made to fail while
// everything else (client lookups) keeps working.
type stallingFeed struct {
	store.Store
	stalled atomic.Bool
}

func (s *stallingFeed) ReadRevocations(ctx context.Context, epoch, cursor string, max int) ([]store.RevocationEvent, string, error) {
	if s.stalled.Load() {
		return nil, "", errors.New("feed stalled by the test")
	}
	return s.Store.ReadRevocations(ctx, epoch, cursor, max)
}

// A caller that may not know about a token is answered before the
// revocation state is consulted: with a stale mirror it still gets
// {"active":false}, where the token's own client gets a 503, so the 503
// cannot tell it that the token is genuine.
func TestIntrospectRefusalDoesNotDependOnTheMirror(t *testing.T) {
	feed := &stallingFeed{Store: memory.New()}
	ts := newTestServer(t, withStore(feed), withConfig(func(c *testConfig) { c.MaxStaleness = 100 * time.Millisecond }))
	other := store.Client{ID: "reports", SecretHash: store.HashClientSecret("reports-secret-with-enough-entropy"),
		Audiences: []string{"https://reports.example.test"}}
	if err := ts.store.PutClient(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	tok := ts.login(t).AccessToken
	feed.stalled.Store(true)
	ts.waitStale()
	if rec := ts.post("/introspect", billingAuth, "token", tok); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("the token's own client with a stale mirror: %d %s", rec.Code, rec.Body)
	}
	rec := ts.post("/introspect", map[string]string{"Authorization": basic("reports", "reports-secret-with-enough-entropy")}, "token", tok)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
		t.Fatalf("another client with a stale mirror: %d %s, want {\"active\":false}", rec.Code, rec.Body)
	}
}

func TestIntrospectEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tr := ts.login(t)
	// Confidential clients only.
	if rec := ts.post("/introspect", nil, "token", tr.AccessToken, "client_id", "default"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("public client: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.post("/introspect", billingAuth); rec.Code != http.StatusBadRequest {
		t.Fatalf("no token: %d", rec.Code)
	}
	got := ts.introspect(t, tr.AccessToken)
	for k, want := range map[string]any{
		"active": true, "scope": "read write", "client_id": "billing", "username": "alice", "sub": "alice",
		"iss": issuer, "token_type": "Bearer",
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"exp", "iat", "jti", "aud"} {
		if got[k] == nil {
			t.Errorf("%s missing", k)
		}
	}
	// Inactive is exactly {"active":false}: nothing about why.
	for _, tok := range []string{"garbage", tamper(t, tr.AccessToken), strings.Repeat("A", 43)} {
		rec := ts.post("/introspect", billingAuth, "token", tok)
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
			t.Errorf("%.20s: %d %s", tok, rec.Code, rec.Body)
		}
	}
	ts.clock.Step(10 * time.Minute) // billing's tokens live 5 minutes
	if active(ts.introspect(t, tr.AccessToken)) {
		t.Error("expired token is active")
	}
	// A refresh token is described to its own client only.
	tr = ts.login(t)
	if got := ts.introspect(t, tr.RefreshToken); !active(got) || got["client_id"] != "billing" || got["username"] != "alice" {
		t.Fatalf("refresh token to its client: %v", got)
	}
	other := store.Client{ID: "reports", SecretHash: store.HashClientSecret(billingSecret + "-reports")}
	if err := ts.store.PutClient(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	rec := ts.post("/introspect", map[string]string{"Authorization": basic("reports", billingSecret+"-reports")}, "token", tr.RefreshToken)
	if strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
		t.Fatalf("refresh token to another client: %s", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("introspection response may be cached")
	}
}
