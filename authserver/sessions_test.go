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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// Issue 10 §4: a session's storage is bounded whatever its refreshes, its
// refreshes are rate-limited, it ends at an absolute lifetime, and
// revoking in a loop does not grow the replicas' mirrors.

// A thousand rotations leave one record of constant size in Redis: the
// old design kept two keys (about 1.1 KB) per rotation for a day.
func TestSessionStorageIsBoundedWhateverTheRefreshes(t *testing.T) {
	rs := redistest.Start(t)
	ts := newTestServer(t, withStore(newRedisStore(t, rs)), withConfig(func(c *testConfig) {
		c.SessionRefreshes.Max = 0 // this test is about storage, not the limit
		c.SessionRefreshes.Window = time.Minute
	}))
	rdb := rs.Client()
	keysOf := func() (n int, bytes int64) {
		iter := rdb.Scan(t.Context(), 0, "it:{rt*", 1000).Iterator()
		for iter.Next(t.Context()) {
			n++
			b, err := rdb.MemoryUsage(t.Context(), iter.Val()).Result()
			if err != nil {
				t.Fatal(err)
			}
			bytes += b
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		return n, bytes
	}
	rt := ts.login(t).RefreshToken
	n0, b0 := keysOf()
	for i := range 1000 {
		rec := ts.refresh(rt)
		if rec.Code != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i, rec.Code, rec.Body)
		}
		rt = decode[tokenResponse](t, rec).RefreshToken
	}
	n, b := keysOf()
	t.Logf("session keys: %d (%d bytes) after the login, %d (%d bytes) after 1000 refreshes", n0, b0, n, b)
	if n0 != 1 || n != 1 || b > b0+64 {
		t.Fatalf("session keys before %d (%d bytes), after 1000 refreshes %d (%d bytes); want one key of constant size", n0, b0, n, b)
	}
}

// At most --session-refresh-max refreshes a window per session; the next
// is 429 with Retry-After, spends nothing, and works once the window has
// passed. Other sessions are not affected.
func TestRefreshesAreRateLimitedPerSession(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.SessionRefreshes.Max, c.SessionRefreshes.Window = 5, time.Minute
	}))
	ts.clock.Step(time.Duration(60-ts.clock.Now().Second()) * time.Second) // the start of a window
	rt := ts.login(t).RefreshToken
	other := ts.login(t).RefreshToken
	for i := range 5 {
		rec := ts.refresh(rt)
		if rec.Code != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i, rec.Code, rec.Body)
		}
		rt = decode[tokenResponse](t, rec).RefreshToken
	}
	rec := ts.refresh(rt)
	retry, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || retry <= 0 || retry > 60 {
		t.Fatalf("the sixth refresh in a minute: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if ts.metric(t, `authstack_throttle_rejections_total{limit="session"}`) != 1 {
		t.Error("the refused refresh is not counted")
	}
	if rec := ts.refresh(other); rec.Code != http.StatusOK {
		t.Fatalf("another session's refresh: %d", rec.Code)
	}
	ts.clock.Step(time.Minute)
	if rec := ts.refresh(rt); rec.Code != http.StatusOK {
		t.Fatalf("the refused token after the window (it was not spent): %d %s", rec.Code, rec.Body)
	}
}

// A session ends at its client's sessionMaxLifetime after the login,
// capped by --max-session-lifetime, whatever its refreshes: no access or
// refresh token reaches past the end.
func TestSessionsEndAtTheirAbsoluteLifetime(t *testing.T) {
	for _, c := range []struct {
		name         string
		client, max  time.Duration
		wantLifetime time.Duration
	}{
		{"the client's lifetime", 2 * time.Hour, 0, 2 * time.Hour},
		{"capped by the server", 100 * 24 * time.Hour, 3 * time.Hour, 3 * time.Hour},
		{"the server's for a client without one", 0, 90 * time.Minute, 90 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t, withConfig(func(cfg *testConfig) {
				cfg.MaxSessionLifetime = c.max
				cfg.SessionRefreshes.Max, cfg.SessionRefreshes.Window = 0, time.Minute
			}))
			cl, _ := ts.store.GetClient(t.Context(), "billing")
			cl.SessionMaxLifetime, cl.RefreshTokenTTL, cl.AccessTokenTTL = c.client, 48*time.Hour, time.Hour
			if err := ts.store.PutClient(t.Context(), cl); err != nil {
				t.Fatal(err)
			}
			login := ts.clock.Now()
			end := login.Add(c.wantLifetime)
			tr := ts.login(t)
			for ts.clock.Now().Add(10 * time.Minute).Before(end) {
				ts.clock.Step(10 * time.Minute)
				rec := ts.refresh(tr.RefreshToken)
				if rec.Code != http.StatusOK {
					t.Fatalf("refresh %v after the login: %d %s", ts.clock.Now().Sub(login), rec.Code, rec.Body)
				}
				tr = decode[tokenResponse](t, rec)
				if exp := parseUnverified(t, tr.AccessToken).ExpiresAt.Time; exp.After(end) {
					t.Fatalf("an access token expires at %v, after the session's end %v", exp, end)
				}
			}
			sess, err := ts.store.GetSession(t.Context(), sessionOf(t, tr.RefreshToken))
			if err != nil {
				t.Fatal(err)
			}
			if sess.TokenExpiresAt.After(end) || !sess.ExpiresAt.Equal(end) {
				t.Fatalf("the refresh token expires %v, the session %v; want both at most %v", sess.TokenExpiresAt, sess.ExpiresAt, end)
			}
			ts.clock.Step(end.Sub(ts.clock.Now()))
			if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
				t.Fatalf("a refresh at the session's end: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// Refreshing and revoking in a loop used to add a revoked jti to every
// replica's mirror per turn, kept up to a day. Revoking an access token now
// ends its session, so the loop stops after one turn, and the session is
// remembered only until its access tokens expire.
func TestRefreshAndRevokeLoopDoesNotGrowTheMirror(t *testing.T) {
	rs := redistest.Start(t)
	ts := newTestServer(t, withStore(newRedisStore(t, rs)))
	tr := ts.login(t)
	for i := range 20 {
		if rec := ts.post("/revoke", billingAuth, "token", tr.AccessToken); rec.Code != http.StatusOK {
			t.Fatalf("revoke %d: %d", i, rec.Code)
		}
		rec := ts.refresh(tr.RefreshToken)
		if rec.Code != http.StatusOK {
			break
		}
		tr = decode[tokenResponse](t, rec)
	}
	ts.caughtUp()
	st := ts.srv.Mirror().Stats()
	if st.RevokedTokens+st.RevokedGrants != 1 {
		t.Fatalf("the mirror holds %d revoked tokens and %d sessions after the loop; want one session", st.RevokedTokens, st.RevokedGrants)
	}
	// Remembered as long as its access tokens live (billing's are 5 min),
	// plus the leeway and a minute: not a day.
	members, err := rs.Client().ZRangeWithScores(t.Context(), "it:{rev}:ids", 0, -1).Result()
	if err != nil || len(members) != 1 || !strings.HasPrefix(members[0].Member.(string), "g:") {
		t.Fatalf("revoked ids in Redis: %v, %v", members, err)
	}
	until := time.UnixMilli(int64(members[0].Score))
	if keep := until.Sub(ts.clock.Now()); keep > 5*time.Minute+5*time.Second+time.Minute+time.Second || keep < 5*time.Minute {
		t.Fatalf("the session is remembered %v", keep)
	}
}

// A refresh token of an earlier generation ends the session, and so does
// one a concurrent presentation spent first; one this session never issued
// (a forged secret or generation) does not.
func TestForgedRefreshTokensDoNotEndTheSession(t *testing.T) {
	ts := newTestServer(t)
	tr := ts.login(t)
	raw := tr.RefreshToken
	forged := []string{
		raw[:len(raw)-4] + "AAAA",           // another secret
		raw[:22] + "AAAAAAAAAAB" + raw[33:], // a later generation
		strings.Repeat("A", len(raw)),       // an unknown session
		raw[:len(raw)-1],                    // not a refresh token at all
	}
	for _, f := range forged {
		if rec := ts.refresh(f); rec.Code != http.StatusBadRequest {
			t.Fatalf("forged %q: %d", f, rec.Code)
		}
	}
	rec := ts.refresh(raw)
	if rec.Code != http.StatusOK {
		t.Fatalf("the real token after the forgeries: %d %s", rec.Code, rec.Body)
	}
	next := decode[tokenResponse](t, rec)
	if rec := ts.refresh(raw); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "already used") {
		t.Fatalf("the used token: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.refresh(next.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("the session survived a reuse: %d", rec.Code)
	}
	if active(ts.introspect(t, next.AccessToken)) {
		t.Fatal("the session's access token survived a reuse")
	}
	if _, err := ts.store.GetSession(t.Context(), sessionOf(t, raw)); err != nil {
		t.Fatal(err)
	}
	_ = store.ErrNotFound
}

// A session whose refresh token expired (its client's refresh lifetime is
// shorter than its access tokens') can still be revoked with that refresh
// token while its access tokens live.
func TestAnExpiredRefreshTokenStillRevokesItsSession(t *testing.T) {
	ts := newTestServer(t)
	cl, _ := ts.store.GetClient(t.Context(), "billing")
	cl.RefreshTokenTTL, cl.AccessTokenTTL = 5*time.Minute, time.Hour
	if err := ts.store.PutClient(t.Context(), cl); err != nil {
		t.Fatal(err)
	}
	tr := ts.login(t)
	ts.clock.Step(10 * time.Minute)
	if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("an expired refresh token refreshes: %d", rec.Code)
	}
	if !active(ts.introspect(t, tr.AccessToken)) {
		t.Fatal("fixture: the access token should live an hour")
	}
	if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if active(ts.introspect(t, tr.AccessToken)) {
		t.Fatal("revoking the session with its expired refresh token left its access token alive")
	}
}

// A session belongs to the client registration it was started with: when
// the AuthClient is deleted and another namespace's AuthClient takes its
// client ID, the old sessions do not refresh through the new registration.
func TestSessionsDoNotPassToAnotherRegistrationOfTheClientID(t *testing.T) {
	ts := newTestServer(t)
	ctx := t.Context()
	app := store.Client{ID: "app", GrantTypes: []string{"password", "refresh_token"}, Source: "team-a/app"}
	if err := ts.store.PutClient(ctx, app); err != nil {
		t.Fatal(err)
	}
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "app")
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tr := decode[tokenResponse](t, rec)
	app.Source, app.Audiences = "team-b/app", []string{"https://team-b.example"}
	if err := ts.store.PutClient(ctx, app); err != nil {
		t.Fatal(err)
	}
	if rec := ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken, "client_id", "app")}); rec.Code != http.StatusBadRequest {
		t.Fatalf("a session of the old registration refreshed through the new one: %d %s", rec.Code, rec.Body)
	}
	sess, err := ts.store.GetSession(ctx, sessionOf(t, tr.RefreshToken))
	if err != nil || !sess.Revoked {
		t.Fatalf("the old registration's session: %+v, %v; want it revoked", sess, err)
	}
}

// A user has at most --max-sessions-per-user live sessions: whoever knows
// one password cannot fill Redis with them. A new login ends the session
// that expires first beyond the bound, refresh and access tokens alike.
func TestSessionsPerUserAreBounded(t *testing.T) {
	rs := redistest.Start(t)
	ts := newTestServer(t, withStore(newRedisStore(t, rs)), withConfig(func(c *testConfig) {
		c.MaxSessionsPerUser = 3
		c.PerUserIP.Max, c.PerIP.Max = 0, 0
	}))
	var logins []tokenResponse
	for range 5 {
		logins = append(logins, ts.login(t))
		ts.clock.Step(time.Second) // each later session expires later
	}
	for i, tr := range logins {
		want := i >= 2 // the first two were ended
		if got := active(ts.introspect(t, tr.AccessToken)); got != want {
			t.Errorf("login %d: access token active %v, want %v", i, got, want)
		}
		if got := ts.refresh(tr.RefreshToken).Code == http.StatusOK; got != want {
			t.Errorf("login %d: refresh works %v, want %v", i, got, want)
		}
	}
	n, err := rs.Client().ZCard(t.Context(), "it:{us:alice}").Result()
	if err != nil || n != 3 {
		t.Fatalf("alice's counted sessions: %d, %v; want 3", n, err)
	}
}
