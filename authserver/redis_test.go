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
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

func newRedisStore(t testing.TB, srv *redistest.Server) store.Store {
	t.Helper()
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: srv.URL(), KeyPrefix: "it"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// With Redis gone, every endpoint that needs it answers 503 with
// Retry-After: never a 500, never a token issued without its checks. When
// Redis returns (empty, as after a crash without persistence) the server
// recovers without a restart.
func TestRedisOutageFailsClosedAndRecovers(t *testing.T) {
	rs := redistest.Start(t)
	ts := newTestServer(t, withStore(newRedisStore(t, rs)), withConfig(func(c *testConfig) {
		c.MaxStaleness = 300 * time.Millisecond
		c.UserRate = throttle.Limit{Max: 100, Window: time.Minute}
		c.ClientRate = throttle.Limit{Max: 100, Window: time.Minute}
	}))
	tok := ts.mustToken()
	if rec := ts.userinfo("Bearer " + tok); rec.Code != http.StatusOK {
		t.Fatalf("userinfo before the outage: %d", rec.Code)
	}
	session := ts.login(t)
	if got := ts.metric(t, `authstack_store_unavailable_total{endpoint="/token"}`); got != 0 {
		t.Fatalf("store unavailable before the outage: %v", got)
	}

	rs.Stop()
	// Validation answers from the mirror until it is older than the bound,
	// then fails closed: 200 for a while, 503 after, never anything else.
	stale := time.Now().Add(10 * time.Second)
	for ts.srv.Mirror().Fresh() {
		if rec := ts.userinfo("Bearer " + tok); rec.Code != http.StatusOK && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("userinfo while the mirror is still fresh: %d", rec.Code)
		}
		if time.Now().After(stale) {
			t.Fatal("the mirror stays fresh with Redis gone")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for name, rec := range map[string]*httptestRecorder{
		"token":    ts.token("grant_type", "password", "username", "alice", "password", alicePassword),
		"wrong pw": ts.token("grant_type", "password", "username", "alice", "password", "guess"),
		"confidential client": ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword),
			headers: map[string]string{"Authorization": basic("billing", billingSecret)}}),
		"userinfo": ts.userinfo("Bearer " + tok),
		"verify":   ts.do(request{method: http.MethodGet, path: "/verify", headers: map[string]string{"Authorization": "Bearer " + tok}}),
		"refresh":  ts.refresh(session.RefreshToken),
		// RFC 7009: never a 200 that did nothing.
		"revoke access token":  ts.post("/revoke", billingAuth, "token", session.AccessToken),
		"revoke refresh token": ts.post("/revoke", billingAuth, "token", session.RefreshToken),
		"introspect":           ts.post("/introspect", billingAuth, "token", session.AccessToken),
		"introspect refresh":   ts.post("/introspect", billingAuth, "token", session.RefreshToken),
	} {
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s with Redis down: %d (Retry-After %q) %s", name, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
		if e := decode[errorResponse](t, rec); e.Error != "temporarily_unavailable" {
			t.Errorf("%s: error %q", name, e.Error)
		}
		// A token that may well be valid is not declared invalid.
		if ch := rec.Header().Get("WWW-Authenticate"); strings.Contains(ch, "invalid_token") {
			t.Errorf("%s: 503 challenges the token: %q", name, ch)
		}
	}
	if rec := ts.doOn(ts.handler, http.MethodGet, "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with Redis down: %d", rec.Code)
	}
	// The refusals for want of the store are counted by endpoint; those of
	// a stale mirror (userinfo, verify) are not the store's.
	for endpoint, want := range map[string]float64{"/token": 4, "/revoke": 2, "/introspect": 2, "/userinfo": 0, "/verify": 0} {
		if got := ts.metric(t, `authstack_store_unavailable_total{endpoint="`+endpoint+`"}`); got != want {
			t.Errorf("store unavailable at %s: %v, want %v", endpoint, got, want)
		}
	}
	if got := ts.metric(t, "authstack_revocation_mirror_sync_errors_total"); got == 0 {
		t.Error("the mirror's failed reads are not counted")
	}
	if rec := ts.doOn(ts.handler, http.MethodGet, "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("healthz is liveness only and must stay 200: %d", rec.Code)
	}

	rs.Restart()
	ts.waitFresh()
	if got := ts.metric(t, "authstack_revocation_mirror_epoch_changes_total"); got != 1 {
		t.Errorf("epoch changes after Redis came back empty: %v, want 1", got)
	}
	// Redis came back empty: alice's record is gone until the controller
	// rewrites it, and the epoch is new, so her old token is refused rather
	// than trusted.
	if rec := ts.userinfo("Bearer " + tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("token of a user whose record is gone: %d", rec.Code)
	}
	if err := ts.store.PutUser(t.Context(), store.User{Username: "alice", PasswordHash: authtest.Hash(t, alicePassword)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
		if rec.Code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after Redis returned: %d %s", rec.Code, rec.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rec := ts.doOn(ts.handler, http.MethodGet, "/readyz"); rec.Code != http.StatusOK {
		t.Errorf("readyz after recovery: %d", rec.Code)
	}
}

// Whatever usernames clients send, throttle keys have a bounded size.
func TestThrottleKeysHaveABoundedSize(t *testing.T) {
	rs := redistest.Start(t)
	ts := newTestServer(t, withStore(newRedisStore(t, rs)))
	long := strings.Repeat("x", 253)
	for i := 0; i < 20; i++ {
		ts.token("grant_type", "password", "username", long[:253-len(strconv.Itoa(i))]+strconv.Itoa(i), "password", "x")
		ts.token("grant_type", "password", "username", strings.Repeat("y", 15000)+strconv.Itoa(i), "password", "x")
	}
	keys, err := rs.Client().Keys(t.Context(), "*attempts*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 || len(keys) > 21 {
		t.Fatalf("%d throttle keys, want the per-IP one and one per valid username", len(keys))
	}
	for _, k := range keys {
		if len(k) > 120 {
			t.Errorf("key of %d bytes: %.60s…", len(k), k)
		}
	}
}

// Two replicas on one Redis share the throttle: failures on either count
// against one limit.
func TestThrottleIsSharedAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	a := newTestServer(t, withStore(newRedisStore(t, rs)))
	b := newTestServer(t, withStore(newRedisStore(t, rs)))
	const attacker = "203.0.113.50:999"
	for i := 0; i < 5; i++ {
		ts := a
		if i%2 == 1 {
			ts = b
		}
		if code := wrong(ts, "alice", attacker, nil); code != http.StatusBadRequest {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	for name, ts := range map[string]*testServer{"a": a, "b": b} {
		if code := wrong(ts, "alice", attacker, nil); code != http.StatusTooManyRequests {
			t.Errorf("replica %s after 5 shared failures: %d, want 429", name, code)
		}
	}
	// And a user record written through one is seen by the other.
	if err := a.store.PutUser(context.Background(), store.User{Username: "zoe", PasswordHash: authtest.Hash(t, "zoe-pw")}); err != nil {
		t.Fatal(err)
	}
	if rec := b.token("grant_type", "password", "username", "zoe", "password", "zoe-pw"); rec.Code != http.StatusOK {
		t.Fatalf("replica b: %d %s", rec.Code, rec.Body)
	}
}

// stopAfterGetUser stops Redis once the user record has been read: the
// login was reserved and its password is about to be checked.
type stopAfterGetUser struct {
	store.Store
	rs *redistest.Server
}

func (s stopAfterGetUser) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	st, err := s.Store.BeginLogin(ctx, l, now)
	s.rs.Stop()
	return st, err
}

// Redis lost between a login's reservation and its outcome: the outcome
// cannot be recorded, so the login is answered 503, right password or
// wrong, never with a token.
func TestRedisLostMidLoginFailsClosed(t *testing.T) {
	for _, pw := range []string{alicePassword, "wrong"} {
		rs := redistest.Start(t)
		ts := newTestServer(t, withStore(stopAfterGetUser{newRedisStore(t, rs), rs}), withConfig(func(c *testConfig) {
			c.UserRate = throttle.Limit{Max: 100, Window: time.Minute}
		}))
		rec := ts.token("grant_type", "password", "username", "alice", "password", pw)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "access_token") {
			t.Errorf("password %q, Redis lost mid-login: %d %s, want 503 with Retry-After", pw, rec.Code, rec.Body)
		}
	}
}
