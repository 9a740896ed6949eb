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
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

// barrier is a store whose GetUser (or GetClient, for clients), once
// armed for n requests, waits until each of the n has either reached it
// or finished.
// Every request the throttle admitted is then in flight at the same time,
// before any password or secret is checked, whatever the scheduler does:
// the worst case of a burst, made deterministic.
type barrier struct {
	store.Store
	clients bool // hold GetClient instead of GetUser
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	arrived int // requests that reached the store
	done    int // requests that finished
}

func newBarrier(clients bool) *barrier {
	b := &barrier{Store: memory.New(), clients: clients}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// arm makes the next n requests meet; 0 disarms, keeping the counts.
func (b *barrier) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n = n; n > 0 {
		b.arrived, b.done = 0, 0
	}
	b.cond.Broadcast()
}

func (b *barrier) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		return
	}
	b.arrived++ // counted while armed only
	b.cond.Broadcast()
	for b.n > 0 && b.arrived+b.done < b.n {
		b.cond.Wait()
	}
}

// finish records that one of the n requests has its answer.
func (b *barrier) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	b.cond.Broadcast()
}

// reached is how many requests got past the throttle to the store.
func (b *barrier) reached() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.arrived
}

// BeginLogin meets the barrier once the login was admitted: it got past
// the throttle (the batch reads the record either way).
func (b *barrier) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	st, err := b.Store.BeginLogin(ctx, l, now)
	if err == nil && st.Admission.Admitted() && !b.clients {
		b.wait()
	}
	return st, err
}

func (b *barrier) GetUser(ctx context.Context, name string) (store.User, error) {
	if !b.clients {
		b.wait()
	}
	return b.Store.GetUser(ctx, name)
}

func (b *barrier) GetClient(ctx context.Context, id string) (store.Client, error) {
	if b.clients {
		b.wait()
	}
	return b.Store.GetClient(ctx, id)
}

// burst sends n copies of r at once through the barrier and returns the
// responses.
func (ts *testServer) burst(b *barrier, n int, r request) []*httptest.ResponseRecorder {
	ts.t.Helper()
	b.arm(n)
	defer b.arm(0)
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			recs[i] = ts.do(r)
			b.finish()
		})
	}
	wg.Wait()
	return recs
}

func passwordLogin(user, pw, remote string) request {
	return request{body: form("grant_type", "password", "username", user, "password", pw), remote: remote}
}

// A CI job's parallel workers behind one NAT log in as one user at once,
// more of them than the per-(user, address) limit. Correct logins are not
// failures: an attempt refused because others were still in flight gets a
// short Retry-After, leaves nothing counted, and the user can log in, and
// still has her whole failure budget, right after. (Before reservations,
// each refused attempt stayed counted: 12 parallel correct logins locked
// the user out for the rest of the window.)
func TestParallelCorrectLoginsNeverLockTheUserOut(t *testing.T) {
	b := newBarrier(false)
	ts := newTestServer(t, withStore(b)) // 5 per user and address
	const addr = "203.0.113.20:1"
	for i, rec := range ts.burst(b, 12, passwordLogin("alice", alicePassword, addr)) {
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "1":
		default:
			t.Errorf("correct login %d of the burst: %d (Retry-After %q) %s", i, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	if got := b.reached(); got != 5 {
		t.Errorf("%d logins of the burst were checked at once, want the limit, 5", got)
	}
	if rec := ts.do(passwordLogin("alice", alicePassword, addr)); rec.Code != http.StatusOK {
		t.Fatalf("alice after the burst: %d (Retry-After %q)", rec.Code, rec.Header().Get("Retry-After"))
	}
	assertFailureBudget(t, ts, "alice", addr, 5)
}

// assertFailureBudget checks that user has exactly max failures left at
// addr: max wrong passwords are checked (400), the next is refused (429).
func assertFailureBudget(t *testing.T, ts *testServer, user, addr string, max int) {
	t.Helper()
	for i := range max {
		if rec := ts.do(passwordLogin(user, "wrong", addr)); rec.Code != http.StatusBadRequest {
			t.Fatalf("failure %d of %d: %d %s: the budget was not whole", i+1, max, rec.Code, rec.Body)
		}
	}
	if rec := ts.do(passwordLogin(user, "wrong", addr)); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("failure %d: %d, want 429", max+1, rec.Code)
	}
}

// Concurrent wrong client secrets are compared at most the limit's number
// of times: the rest are refused before their comparison. (Counting only
// failures after the comparison let 16 concurrent guesses all be compared
// against a limit of 10.)
func TestParallelWrongSecretsAreComparedAtMostTheLimit(t *testing.T) {
	b := newBarrier(true)
	ts := newTestServer(t, withStore(b)) // 5 per client and address
	const addr = "203.0.113.21:1"
	r := request{path: "/introspect", body: form("token", "x"), remote: addr,
		headers: map[string]string{"Authorization": basic("billing", "wrong-secret-guess")}}
	codes := map[int]int{}
	for _, rec := range ts.burst(b, 16, r) {
		codes[rec.Code]++
	}
	if got := b.reached(); got > 5 {
		t.Errorf("%d of 16 concurrent wrong secrets were compared, want at most the limit, 5", got)
	}
	if codes[http.StatusUnauthorized] != b.reached() || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 16 {
		t.Errorf("outcomes %v: want one 401 per comparison and 429 for the rest", codes)
	}
	// The limit is used up: even the right secret is refused now.
	r.headers = map[string]string{"Authorization": basic("billing", billingSecret)}
	if rec := ts.do(r); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right secret after the guesses: %d, want 429", rec.Code)
	}
	if got, want := ts.do(r).Header().Get("Retry-After"), untilMinuteEnds(ts); got != want {
		t.Errorf("Retry-After %s, want %s: a used-up limit lasts to the window's end", got, want)
	}
}

// untilMinuteEnds is the Retry-After, in whole seconds, of a limit of the
// test server's one-minute windows that is used up.
func untilMinuteEnds(ts *testServer) string {
	left := time.Minute - time.Duration(ts.clock.Now().UnixNano()%int64(time.Minute))
	return strconv.Itoa(int((left + time.Second - 1) / time.Second))
}

// failing is a store whose GetUser and Settle fail on demand, as Redis
// does when it goes away between two calls of one login.
type failing struct {
	store.Store
	mu      sync.Mutex
	users   bool // GetUser fails
	settles bool // Settle fails
}

func (f *failing) set(users, settles bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users, f.settles = users, settles
}

// The batches call the failing store's own methods.
func (f *failing) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	return store.BeginLoginOf(ctx, f, l, now)
}

func (f *failing) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	return store.FinishLoginOf(ctx, f, l, now)
}

func (f *failing) GetUser(ctx context.Context, name string) (store.User, error) {
	f.mu.Lock()
	fail := f.users
	f.mu.Unlock()
	if fail {
		return store.User{}, fmt.Errorf("get user: %w", store.ErrUnavailable)
	}
	return f.Store.GetUser(ctx, name)
}

func (f *failing) Settle(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error {
	f.mu.Lock()
	fail := f.settles
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("settle: %w", store.ErrUnavailable)
	}
	return f.Store.Settle(ctx, r, o, now)
}

// Attempts refused before their password was checked count as nothing: a
// malformed scope, a store that failed. An attempt whose outcome cannot be
// recorded is answered 503, never with a token.
func TestRefusedAttemptsAreNotFailures(t *testing.T) {
	f := &failing{Store: memory.New()}
	ts := newTestServer(t, withStore(f))
	const addr = "203.0.113.22:1"
	for range 10 {
		r := passwordLogin("alice", "wrong", addr)
		r.body += "&scope=%22"
		if rec := ts.do(r); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_scope" {
			t.Fatalf("malformed scope: %d %s", rec.Code, rec.Body)
		}
	}
	f.set(true, false)
	for range 10 {
		if rec := ts.do(passwordLogin("alice", "wrong", addr)); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("user store down: %d %s", rec.Code, rec.Body)
		}
	}
	f.set(false, true)
	for _, pw := range []string{alicePassword, "wrong"} {
		rec := ts.do(passwordLogin("alice", pw, addr))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("outcome not recorded: %d %s, want 503 with Retry-After", rec.Code, rec.Body)
		}
	}
	rec := ts.do(request{path: "/introspect", body: form("token", "x"), remote: addr,
		headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("client secret whose outcome cannot be recorded: %d", rec.Code)
	}
	f.set(false, false)
	// The reservations whose settling failed lapse after their hold, as
	// those of a replica that died mid-attempt do.
	ts.clock.Step(time.Minute)
	assertFailureBudget(t, ts, "alice", addr, 5)
}

// Behind a proxy missing from --trusted-proxies (or a busy NAT), every
// client shares one address. A sprayer there uses up the address's budget,
// but a user who logged in from that address before still logs in, within
// her own per-(user, address) limit; a pair with no success there is
// refused as before.
func TestSprayerBehindASharedAddressDoesNotLockOutItsUsers(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.PerIP.Max = 100 }))
	const shared = "10.0.0.1:4000" // the proxy
	if rec := ts.do(passwordLogin("alice", alicePassword, shared)); rec.Code != http.StatusOK {
		t.Fatalf("alice before the spray: %d", rec.Code)
	}
	for i := range 100 {
		if rec := ts.do(passwordLogin("user"+strconv.Itoa(i), "guess", shared)); rec.Code != http.StatusBadRequest {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	if rec := ts.do(passwordLogin("someone-new", "guess", shared)); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("101st guess from the address: %d, want 429", rec.Code)
	}
	if rec := ts.do(passwordLogin("alice", alicePassword, shared)); rec.Code != http.StatusOK {
		t.Fatalf("alice, who logged in from the address before: %d, want 200", rec.Code)
	}
	if rec := ts.do(passwordLogin("bob", bobPassword, shared)); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("bob, who never logged in from the address: %d, want 429", rec.Code)
	}
	// alice is still held to her own limit there.
	assertFailureBudget(t, ts, "alice", shared, 5)
}
