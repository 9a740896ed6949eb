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
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/resourceserver"
)

// Issue 10 §1: a login (or a refresh) that read the user's record before a
// password change, a disable or a revokeTokensBefore, and finished after
// the change had been written, must not produce a token that anything
// accepts. These tests hold the request at the point of the race with a
// gate in the store, write the change the way the manager does (the state
// first, then the record), and let the request go on.

// gatedStore holds the first call of one method, for one user, until the
// test has written its change.
type gatedStore struct {
	store.Store
	mu      sync.Mutex
	gate    string // "GetUser" or "SessionWritten"; "" when disarmed
	reached chan struct{}
	release chan struct{}
}

func (g *gatedStore) arm(method string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate, g.reached, g.release = method, make(chan struct{}), make(chan struct{})
}

// hold blocks the caller of method once, after the store has answered.
func (g *gatedStore) hold(method string) {
	g.mu.Lock()
	if g.gate != method {
		g.mu.Unlock()
		return
	}
	g.gate = ""
	reached, release := g.reached, g.release
	g.mu.Unlock()
	close(reached)
	<-release
}

// BeginLogin is where a login reads the record.
func (g *gatedStore) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	st, err := g.Store.BeginLogin(ctx, l, now)
	if l.Username == "alice" {
		g.hold("GetUser")
	}
	return st, err
}

// FinishLogin and FinishRefresh are where a login and a refresh have
// done their checks and wait only for their access token to be signed; a
// refresh reads the record there too.
func (g *gatedStore) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	evicted, err := g.Store.FinishLogin(ctx, l, now)
	if l.Session != nil {
		g.hold("SessionWritten")
	}
	return evicted, err
}

func (g *gatedStore) FinishRefresh(ctx context.Context, username, id string, r store.Rotation, now time.Time) (store.Refreshed, error) {
	f, err := g.Store.FinishRefresh(ctx, username, id, r, now)
	if username == "alice" {
		g.hold("GetUser")
	}
	g.hold("SessionWritten")
	return f, err
}

// The changes a manager writes; notBefore is the time it read from its
// own clock, which may be before the token server's login began.
var supersedingChanges = map[string]func(u *store.User, notBefore time.Time){
	"password change": func(u *store.User, nb time.Time) {
		u.PasswordHash, u.NotBefore = mustHash("a-new-password-for-alice"), nb
	},
	"disable":            func(u *store.User, nb time.Time) { u.Disabled, u.NotBefore = true, nb },
	"revokeTokensBefore": func(u *store.User, nb time.Time) { u.NotBefore = nb },
}

func mustHash(pw string) string {
	h, err := authtest.FastParams.Hash([]byte(pw))
	if err != nil {
		panic(err)
	}
	return h
}

type supersedeFixture struct {
	ts    *testServer
	gated *gatedStore
	mw    *resourceserver.Middleware
}

const introspectorSecret = "introspector-secret-with-enough-entropy"

func newSupersedeFixture(t *testing.T, backend store.Store, opts ...option) *supersedeFixture {
	t.Helper()
	gated := &gatedStore{Store: backend}
	ts := newTestServer(t, append([]option{withStore(gated)}, opts...)...)
	// A resource server that may introspect the default client's tokens
	// (whose audience is the issuer).
	if err := ts.store.PutClient(t.Context(), store.Client{
		ID: "introspector", SecretHash: store.HashClientSecret(introspectorSecret), Audiences: []string{issuer},
		GrantTypes: []string{"password"},
	}); err != nil {
		t.Fatal(err)
	}
	mw, err := resourceserver.New(resourceserver.Options{
		Issuer: issuer, Audiences: []string{issuer}, Keys: ts.keys, Revocation: ts.srv.Mirror(), Clock: ts.cfg.Clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &supersedeFixture{ts: ts, gated: gated, mw: mw}
}

// supersede writes change to alice's record as the manager would.
func (f *supersedeFixture) supersede(t *testing.T, change func(*store.User, time.Time), nb time.Time) {
	t.Helper()
	u, err := f.gated.Store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	change(&u, nb)
	if err := f.gated.Store.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}

// accepted lists every place that takes tr's tokens: none may, once the
// credential they came from has been superseded.
func (f *supersedeFixture) accepted(t *testing.T, tr tokenResponse) []string {
	t.Helper()
	ts := f.ts
	ts.caughtUp()
	var got []string
	bearer := map[string]string{"Authorization": "Bearer " + tr.AccessToken}
	if rec := ts.do(request{method: http.MethodGet, path: "/userinfo", headers: bearer}); rec.Code == http.StatusOK {
		got = append(got, "/userinfo")
	}
	if rec := ts.do(request{method: http.MethodGet, path: "/verify", headers: bearer}); rec.Code == http.StatusOK {
		got = append(got, "/verify")
	}
	rec := ts.post("/introspect", map[string]string{"Authorization": basic("introspector", introspectorSecret)}, "token", tr.AccessToken)
	if rec.Code == http.StatusOK && active(decode[map[string]any](t, rec)) {
		got = append(got, "/introspect")
	}
	mwRec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })).ServeHTTP(mwRec, req)
	if mwRec.Code == http.StatusNoContent {
		got = append(got, "the Go middleware")
	}
	if tr.RefreshToken != "" {
		if rec := ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken)}); rec.Code == http.StatusOK {
			got = append(got, "the refresh grant")
		}
	}
	return got
}

// aliceLogin logs alice in with her old password through the default
// (public) client, in the background.
func (f *supersedeFixture) aliceLogin() <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		done <- f.ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword)})
	}()
	return done
}

func backends(t *testing.T) map[string]func() store.Store {
	return map[string]func() store.Store{
		"memory": func() store.Store { return memory.New() },
		"redis":  func() store.Store { return newRedisStore(t, redistest.Start(t)) },
	}
}

// The change is written while the password is being checked: the login
// must not issue a token. The token server's clock is the real one; the
// change's not-before is the manager's now.
func TestLoginThatCheckedASupersededCredentialIssuesNoToken(t *testing.T) {
	for bname, backend := range backends(t) {
		for cname, change := range supersedingChanges {
			t.Run(bname+"/"+cname, func(t *testing.T) {
				f := newSupersedeFixture(t, backend(), withConfig(func(c *testConfig) { c.Clock = clock.RealClock{} }))
				f.gated.arm("GetUser")
				done := f.aliceLogin()
				<-f.gated.reached // the old record has been read
				f.supersede(t, change, time.Now())
				f.ts.caughtUp()
				close(f.gated.release)
				rec := <-done
				if rec.Code == http.StatusOK {
					tr := decode[tokenResponse](t, rec)
					t.Fatalf("a login that checked the superseded credential got tokens, accepted by %v", f.accepted(t, tr))
				}
				if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("got %d %s, want 503 with Retry-After", rec.Code, rec.Body)
				}
				// The retry is judged against the new record.
				retry := f.ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
				wantRetry := http.StatusOK
				if cname != "revokeTokensBefore" {
					wantRetry = http.StatusBadRequest
				}
				if retry.Code != wantRetry {
					t.Fatalf("retry: %d %s, want %d", retry.Code, retry.Body, wantRetry)
				}
			})
		}
	}
}

// The change is written after the login's last check, while its response
// is on its way: the tokens carry the version of the record the password
// was checked against, and every validator refuses them once the change
// has reached it. The manager's clock read the change's not-before a
// millisecond before the login began; time alone would accept the tokens.
func TestTokensOfASupersededCredentialAreRefusedEverywhere(t *testing.T) {
	for bname, backend := range backends(t) {
		for cname, change := range supersedingChanges {
			t.Run(bname+"/"+cname, func(t *testing.T) {
				f := newSupersedeFixture(t, backend())
				start := f.ts.clock.Now().Truncate(time.Second).Add(time.Second)
				f.ts.clock.Step(start.Sub(f.ts.clock.Now())) // the login begins on a whole second
				f.gated.arm("SessionWritten")
				done := f.aliceLogin()
				<-f.gated.reached // the access token is signed, the session stored
				f.supersede(t, change, start.Add(-time.Millisecond))
				close(f.gated.release)
				rec := <-done
				if rec.Code != http.StatusOK {
					t.Fatalf("login: %d %s", rec.Code, rec.Body)
				}
				f.ts.clock.Step(2 * time.Second)
				if got := f.accepted(t, decode[tokenResponse](t, rec)); len(got) != 0 {
					t.Fatalf("tokens of the superseded credential accepted by %v", got)
				}
			})
		}
	}
}

// The same races in the refresh grant: the user's record is read by the
// refresh, or the new tokens are minted, before the change lands.
func TestRefreshThatRacedASupersedingChangeYieldsNothingAccepted(t *testing.T) {
	for bname, backend := range backends(t) {
		for _, gate := range []string{"GetUser", "SessionWritten"} {
			for cname, change := range supersedingChanges {
				t.Run(bname+"/"+gate+"/"+cname, func(t *testing.T) {
					f := newSupersedeFixture(t, backend())
					first := f.ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword)})
					if first.Code != http.StatusOK {
						t.Fatalf("login: %d %s", first.Code, first.Body)
					}
					session := decode[tokenResponse](t, first)
					f.ts.clock.Step(time.Minute)
					start := f.ts.clock.Now().Truncate(time.Second).Add(time.Second)
					f.ts.clock.Step(start.Sub(f.ts.clock.Now()))
					f.gated.arm(gate)
					done := make(chan *httptest.ResponseRecorder, 1)
					go func() {
						done <- f.ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", session.RefreshToken)})
					}()
					<-f.gated.reached
					f.supersede(t, change, start.Add(-time.Millisecond))
					f.ts.caughtUp()
					close(f.gated.release)
					rec := <-done
					f.ts.clock.Step(2 * time.Second)
					if rec.Code == http.StatusOK {
						if got := f.accepted(t, decode[tokenResponse](t, rec)); len(got) != 0 {
							t.Fatalf("tokens of a refresh that raced the change accepted by %v", got)
						}
					}
					if got := f.accepted(t, session); len(got) != 0 {
						t.Fatalf("the session's first tokens accepted by %v", got)
					}
				})
			}
		}
	}
}

// The red team's run, on Redis with real clocks: logins with alice's
// password race a change of it. Whatever each login answers, and whenever,
// none of the tokens obtained with the old password is accepted anywhere
// once the change has been written: not those of logins that raced it, nor
// those issued before it (a password change logs the user out).
func TestConcurrentLoginsAndAPasswordChange(t *testing.T) {
	f := newSupersedeFixture(t, newRedisStore(t, redistest.Start(t)), withConfig(func(c *testConfig) {
		c.Clock = clock.RealClock{}
		c.PerUserIP.Max, c.PerIP.Max = 0, 0
	}))
	pw := alicePassword
	for round := range 5 {
		results := make(chan *httptest.ResponseRecorder, 6)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				results <- f.ts.do(request{body: form("grant_type", "password", "username", "alice", "password", pw)})
			})
		}
		time.Sleep(time.Duration(round) * 2 * time.Millisecond)
		next := fmt.Sprintf("alice-password-of-round-%d", round)
		f.supersede(t, func(u *store.User, nb time.Time) { u.PasswordHash, u.NotBefore = mustHash(next), nb }, time.Now())
		wg.Wait()
		close(results)
		for rec := range results {
			if rec.Code == http.StatusOK {
				if got := f.accepted(t, decode[tokenResponse](t, rec)); len(got) != 0 {
					t.Fatalf("round %d: a token of the old password is accepted by %v", round, got)
				}
			}
		}
		pw = next
	}
}
