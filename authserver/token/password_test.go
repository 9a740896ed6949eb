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

package token

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

type pauses struct {
	mu sync.Mutex
	d  []time.Duration
}

func (p *pauses) record(_ context.Context, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.d = append(p.d, d)
}

func (p *pauses) take() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.d
	p.d = nil
	return d
}

func newGrant(t *testing.T) (*PasswordGrant, *pauses) {
	t.Helper()
	st := memory.New()
	aliceHash := authtest.Hash(t, "alice-pw")
	// bob's hash is of a slower class than the decoy: bcrypt cost 8.
	bobHash, _ := bcrypt.GenerateFromPassword([]byte("bob-pw"), 8)
	for _, u := range []store.User{{Username: "alice", PasswordHash: aliceHash}, {Username: "bob", PasswordHash: string(bobHash)}} {
		if err := st.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	v, err := password.NewVerifier(password.Policy{Params: authtest.FastParams})
	if err != nil {
		t.Fatal(err)
	}
	p := &pauses{}
	return &PasswordGrant{
		Logins: st, Verifier: v, Pool: password.NewPool(password.PoolOptions{}),
		Limiter: &throttle.Limiter{Counters: st, PerUserIP: throttle.Limit{Max: 100, Window: time.Minute}, PerIP: throttle.Limit{Max: 100, Window: time.Minute}},
		Minter: &Minter{Tokens: &accesstoken.Issuer{Keys: signer.Static(authtest.KeySet(t, signer.AlgES256)), Issuer: "https://a.example"}, Store: st,
			DefaultAudience: []string{"https://a.example"}, AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour},
		Metrics: metrics.New(), Pause: p.record,
	}, p
}

func login(g *PasswordGrant, user, pw string) error {
	_, err := g.Handle(context.Background(), &Request{
		GrantType: GrantPassword, Form: oauth.Form{"username": user, "password": pw},
		Client: store.Client{ID: "c"}, ClientIP: netip.MustParseAddr("198.51.100.1"),
	})
	return err
}

// Once a slower class of hash has been seen (bob's bcrypt), a failure for
// an unknown user, or a wrong password for an argon2id user, is held to at
// least that class's time; successes are not held.
func TestFailuresAreHeldToTheSlowestHashClass(t *testing.T) {
	g, p := newGrant(t)
	if err := login(g, "bob", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	p.take()
	floor := g.Verifier.FailureFloor()
	for _, c := range []struct{ user, pw string }{{"mallory", "x"}, {"alice", "wrong"}} {
		if err := login(g, c.user, c.pw); err == nil {
			t.Fatalf("%s accepted", c.user)
		}
		got := p.take()
		if len(got) != 1 || got[0] <= 0 || got[0] > floor {
			t.Errorf("%s: pauses %v, want one in (0, %v]", c.user, got, floor)
		}
	}
	if err := login(g, "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if got := p.take(); len(got) != 0 {
		t.Errorf("a success was held: %v", got)
	}
}

// A full hash pool refuses at once, without touching the throttle counters.
func TestFullPoolRefusesBeforeCounting(t *testing.T) {
	g, _ := newGrant(t)
	release := fillPool(g)
	spy := &countingCounters{Counters: g.Limiter.Counters}
	g.Limiter.Counters = spy
	err := login(g, "alice", "alice-pw")
	if e := oauth.As(err); e.Status != 503 {
		t.Fatalf("full pool: %v", err)
	}
	release()
	if spy.adds != 0 {
		t.Fatalf("a refused request wrote %d throttle counters", spy.adds)
	}
}

// fillPool gives g a hash pool of one worker and one queue slot and takes
// both; release frees them.
func fillPool(g *PasswordGrant) (release func()) {
	g.Pool = password.NewPool(password.PoolOptions{Workers: 1, Queue: 1, MaxWait: time.Minute})
	done := make(chan struct{})
	started := make(chan struct{})
	go func() { _ = g.Pool.Do(context.Background(), func() { close(started); <-done }) }()
	<-started
	go func() { _ = g.Pool.Do(context.Background(), func() {}) }() // queued
	for !g.Pool.Full() {
		time.Sleep(time.Millisecond)
	}
	return func() { close(done) }
}

// countingCounters counts the reservations made on the counters it wraps.
type countingCounters struct {
	store.Counters
	adds int
}

func (c *countingCounters) Reserve(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	c.adds++
	return c.Counters.Reserve(ctx, r, now)
}

// loginTokens logs in as alice and returns the response.
func loginResponse(g *PasswordGrant, user, pw string) (*Response, error) {
	return g.Handle(context.Background(), &Request{
		GrantType: GrantPassword, Form: oauth.Form{"username": user, "password": pw},
		Client: store.Client{ID: "c"}, ClientIP: netip.MustParseAddr("198.51.100.1"),
	})
}

func setNotBefore(t *testing.T, g *PasswordGrant, username string, nb time.Time) store.User {
	t.Helper()
	u, err := g.Logins.(store.Store).GetUser(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	u.NotBefore = nb
	if err := g.Logins.(store.Store).PutUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func claimsOf(t *testing.T, g *PasswordGrant, raw string) *accesstoken.Claims {
	t.Helper()
	iss := g.Minter.Tokens.(*accesstoken.Issuer)
	v := &accesstoken.Validator{Keys: iss.Keys, Issuer: iss.Issuer}
	c, err := v.Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A login in the same second as the user's not-before (a record just
// written, a password just changed) is answered at once: its session is
// judged by when the record was read and which version of it was read, so
// the token is good, and there is nothing to wait for.
func TestLoginInTheNotBeforeSecondIsIssuedAtOnce(t *testing.T) {
	g, p := newGrant(t)
	now := time.Unix(1_800_000_000, 300_000_000)
	g.Clock = clocktesting.NewFakePassiveClock(now)
	u := setNotBefore(t, g, "alice", now)
	resp, err := loginResponse(g, "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.take(); len(got) != 0 {
		t.Fatalf("the login waited: %v", got)
	}
	c := claimsOf(t, g, resp.AccessToken)
	if c.AuthTime == nil || c.AuthTime.Unix() != now.Unix() || c.Credential != store.CredentialMark(u.NotBefore) {
		t.Fatalf("auth_time %v, authstack_cred %d; want %d and %d", c.AuthTime, c.Credential, now.Unix(), store.CredentialMark(u.NotBefore))
	}
	if u.State().Ends(c.Session()) {
		t.Fatal("the token issued is refused by the state it was issued under")
	}
}

type fixedStates map[string]store.UserState

func (f fixedStates) State(_ context.Context, u string) (store.UserState, bool) {
	s, ok := f[u]
	return s, ok
}

// Validators may know of a change a moment before the record does (the
// store writes the state first): a login whose password was checked
// against the older record is refused, 503 so that the retry is judged
// against the new one, and leaves no refresh token behind.
func TestLoginAgainstASupersededRecordIsRefused(t *testing.T) {
	for name, st := range map[string]store.UserState{
		"password changed": {NotBefore: time.Now()},
		"disabled":         {Disabled: true},
	} {
		t.Run(name, func(t *testing.T) {
			g, p := newGrant(t)
			g.States = fixedStates{"alice": st}
			resp, err := loginResponse(g, "alice", "alice-pw")
			e := oauth.As(err)
			if resp != nil || e.Status != 503 || e.RetryAfter <= 0 {
				t.Fatalf("got %+v, %v; want 503 with Retry-After", resp, err)
			}
			if got := p.take(); len(got) != 0 {
				t.Fatalf("the login waited: %v", got)
			}
		})
	}
	g, _ := newGrant(t)
	g.States = fixedStates{} // the validators know no such user yet
	if e := oauth.As(login(g, "alice", "alice-pw")); e.Status != 503 {
		t.Fatalf("a user the validators do not know: %v, want 503", e)
	}
	g.States = fixedStates{"alice": {}}
	if err := login(g, "alice", "alice-pw"); err != nil {
		t.Fatalf("an unchanged state: %v", err)
	}
}

// A not-before ahead of the login (revokeTokensBefore in the future, or
// the manager's clock ahead) issues no token: retry when it is a moment
// ahead, locked out like a disabled user when it is far ahead.
func TestLoginBeforeTheNotBeforeIsRefused(t *testing.T) {
	g, _ := newGrant(t)
	now := time.Unix(1_800_000_000, 300_000_000)
	g.Clock = clocktesting.NewFakePassiveClock(now)
	setNotBefore(t, g, "alice", now.Add(1500*time.Millisecond))
	e := oauth.As(login(g, "alice", "alice-pw"))
	if e.Status != 503 || e.RetryAfter != time.Second {
		t.Fatalf("not-before 1.5 s ahead: %v (Retry-After %v), want 503 after 1s", e, e.RetryAfter)
	}
	setNotBefore(t, g, "alice", now.Add(time.Hour))
	if e := oauth.As(login(g, "alice", "alice-pw")); e.Code != oauth.CodeInvalidGrant || e.Description != errBadCredentials.Description {
		t.Fatalf("not-before an hour ahead: %v, want the bad-credentials answer", e)
	}
}
