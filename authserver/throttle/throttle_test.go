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

package throttle

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

func TestSource(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":         "198.51.100.7",
		"::ffff:198.51.100.7":  "198.51.100.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		// NAT64 (RFC 6052 §2.1, the well-known prefix 64:ff9b::/96): an IPv4
		// client seen through a translator is that IPv4 client, not one of
		// every IPv4 client sharing the translator's /64.
		"64:ff9b::c633:6407":    "198.51.100.7",
		"64:ff9b::198.51.100.8": "198.51.100.8",
		"64:ff9b::cb00:7101":    "203.0.113.1",
		// Only the /96: the rest of 64:ff9b::/64 is ordinary IPv6.
		"64:ff9b::1:c633:6407": "64:ff9b::/64",
		// RFC 8215's local-use prefix embeds IPv4 wherever the operator
		// chose: it cannot be read, and stays per /64.
		"64:ff9b:1::c633:6407": "64:ff9b:1::/64",
	} {
		if got := source(netip.MustParseAddr(in)); got != want {
			t.Errorf("source(%s) = %s, want %s", in, got, want)
		}
	}
}

var t0 = time.Unix(1_800_000_000, 0)

func newLimiter(perUserIP, perIP int64) *Limiter {
	return &Limiter{
		Counters: memory.New(), Clock: clocktesting.NewFakePassiveClock(t0),
		PerUserIP: Limit{Max: perUserIP, Window: time.Minute}, PerIP: Limit{Max: perIP, Window: time.Minute},
	}
}

// fail counts one failure of subject from ip.
func fail(t *testing.T, l *Limiter, subject, ip string) {
	t.Helper()
	a, err := l.Begin(context.Background(), subject, netip.MustParseAddr(ip))
	if err != nil {
		t.Fatalf("%s from %s: %v", subject, ip, err)
	}
	if err := a.Fail(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// wantExceeded fails t unless err is scope's limit with that Retry-After
// (0: until the window's end).
func wantExceeded(t *testing.T, err error, scope Scope, retryAfter time.Duration) {
	t.Helper()
	var exceeded *ExceededError
	if !errors.As(err, &exceeded) || exceeded.Scope != scope {
		t.Fatalf("got %v, want the %s limit", err, scope)
	}
	if retryAfter == 0 {
		retryAfter = untilWindowEnd(t0, time.Minute)
	}
	if exceeded.RetryAfter != retryAfter {
		t.Fatalf("Retry-After %v, want %v", exceeded.RetryAfter, retryAfter)
	}
}

// Rotating through the addresses of one IPv6 /64 does not escape the limit.
func TestIPv6RotationSharesOneBudget(t *testing.T) {
	l := newLimiter(3, 0)
	for i := range 3 {
		fail(t, l, "alice", netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}).String())
	}
	_, err := l.Begin(context.Background(), "alice", netip.MustParseAddr("2001:db8::ffff"))
	wantExceeded(t, err, ScopeUserIP, 0)
	// Another /64 is another client.
	fail(t, l, "alice", "2001:db8:0:1::1")
}

// Two IPv4 clients seen through NAT64 have a budget each, the one they
// have when they come in over IPv4.
func TestNAT64ClientsHaveTheirOwnBudgets(t *testing.T) {
	l := newLimiter(0, 2)
	fail(t, l, "alice", "64:ff9b::198.51.100.1")
	fail(t, l, "bob", "198.51.100.1")
	for _, ip := range []string{"64:ff9b::198.51.100.1", "198.51.100.1"} {
		_, err := l.Begin(context.Background(), "carol", netip.MustParseAddr(ip))
		wantExceeded(t, err, ScopeIP, 0)
	}
	fail(t, l, "carol", "64:ff9b::198.51.100.2")
}

// Successes and attempts never judged leave nothing counted.
func TestOnlyFailuresCount(t *testing.T) {
	l := newLimiter(1, 1)
	ip := netip.MustParseAddr("198.51.100.1")
	for i := range 5 {
		a, err := l.Begin(context.Background(), "alice", ip)
		if err != nil {
			t.Fatalf("attempt %d after successes and withdrawals: %v", i, err)
		}
		end := a.Succeed
		if i%2 == 1 {
			end = a.Withdraw
		}
		if err := end(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	fail(t, l, "alice", "198.51.100.1")
	_, err := l.Begin(context.Background(), "alice", ip)
	wantExceeded(t, err, ScopeIP, 0)
}

// An attempt in flight holds its place: a second one is refused, with a
// short Retry-After, since the place frees within about a hash. Once the
// first fails, the limit is used up until the window's end.
func TestInFlightAttemptsHoldTheirPlace(t *testing.T) {
	l := newLimiter(1, 0)
	ip := netip.MustParseAddr("198.51.100.1")
	a, err := l.Begin(context.Background(), "alice", ip)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Begin(context.Background(), "alice", ip)
	wantExceeded(t, err, ScopeUserIP, InFlightRetry)
	if err := a.Fail(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = l.Begin(context.Background(), "alice", ip)
	wantExceeded(t, err, ScopeUserIP, 0)
}

// With Wait, an attempt that finds the limit filled by attempts in flight
// waits for one of them to settle instead of being refused.
func TestAttemptWaitsForAPlace(t *testing.T) {
	l := newLimiter(1, 0)
	l.Wait = time.Minute
	ip := netip.MustParseAddr("198.51.100.1")
	a, err := l.Begin(context.Background(), "alice", ip)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		b, err := l.Begin(context.Background(), "alice", ip)
		if err == nil {
			err = b.Succeed(context.Background())
		}
		done <- err
	}()
	for waitingKeys(l) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := a.Succeed(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting attempt, once a place was free: %v", err)
	}

	// A wait ends with its request.
	a, _ = l.Begin(context.Background(), "alice", ip)
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	var exceeded *ExceededError
	if _, err := l.Begin(ctx, "alice", ip); err == nil || errors.As(err, &exceeded) {
		t.Fatalf("cancelled wait: %v, want the context's error", err)
	}
	// A waiter that leaves unwoken leaves nothing behind.
	if n := waitingKeys(l); n != 0 {
		t.Fatalf("%d keys still waited on", n)
	}
	_ = a.Withdraw(context.Background())
}

// waitingKeys is the number of keys attempts wait on.
func waitingKeys(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}

// An attempt refused by its own subject's limit takes nothing from the
// address: other users behind it keep their budget.
func TestRefusedAttemptsLeaveNothing(t *testing.T) {
	l := newLimiter(2, 4)
	const ip = "198.51.100.1"
	fail(t, l, "alice", ip)
	fail(t, l, "alice", ip)
	for range 10 {
		_, err := l.Begin(context.Background(), "alice", netip.MustParseAddr(ip))
		wantExceeded(t, err, ScopeUserIP, 0)
	}
	// Two of the four failures of the address are used; bob gets the others.
	fail(t, l, "bob", ip)
	fail(t, l, "bob", ip)
	_, err := l.Begin(context.Background(), "carol", netip.MustParseAddr(ip))
	wantExceeded(t, err, ScopeIP, 0)
}

// succeed ends one successful attempt of subject from ip.
func succeed(t *testing.T, l *Limiter, subject, ip string) {
	t.Helper()
	a, err := l.Begin(context.Background(), subject, netip.MustParseAddr(ip))
	if err != nil {
		t.Fatalf("%s from %s: %v", subject, ip, err)
	}
	if err := a.Succeed(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A subject that succeeded from an address is not held to the address's
// limit for KnownFor, only to its own; everyone else is, and the
// exemption ends.
func TestKnownPairsAreNotHeldToTheAddressLimit(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	l := newLimiter(2, 1)
	l.Clock, l.KnownFor = clk, time.Hour
	const ip = "198.51.100.1"
	succeed(t, l, "alice", ip)
	fail(t, l, "mallory", ip) // the address's one failure
	_, err := l.Begin(context.Background(), "bob", netip.MustParseAddr(ip))
	wantExceeded(t, err, ScopeIP, 0)
	fail(t, l, "alice", ip)
	fail(t, l, "alice", ip)
	_, err = l.Begin(context.Background(), "alice", netip.MustParseAddr(ip))
	wantExceeded(t, err, ScopeUserIP, 0)

	clk.Step(time.Hour + time.Minute) // new windows, and no exemption
	fail(t, l, "mallory", ip)
	if _, err := l.Begin(context.Background(), "alice", netip.MustParseAddr(ip)); !errors.As(err, new(*ExceededError)) {
		t.Fatalf("alice after her exemption ended: %v, want the ip limit", err)
	}
}

// Without KnownFor, a success exempts nobody.
func TestNobodyIsKnownWithoutKnownFor(t *testing.T) {
	l := newLimiter(2, 1)
	succeed(t, l, "alice", "198.51.100.1")
	fail(t, l, "mallory", "198.51.100.1")
	_, err := l.Begin(context.Background(), "alice", netip.MustParseAddr("198.51.100.1"))
	wantExceeded(t, err, ScopeIP, 0)
}

// Limits that are off count nothing and need no store.
func TestLimitsOff(t *testing.T) {
	l := &Limiter{}
	a, err := l.Begin(context.Background(), "alice", netip.MustParseAddr("198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Fail(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUntilWindowEnd(t *testing.T) {
	w := 10 * time.Minute
	start := time.Unix(0, 0).Add(1000 * w)
	if got := untilWindowEnd(start, w); got != w {
		t.Errorf("at window start: %v", got)
	}
	if got := untilWindowEnd(start.Add(w-time.Second), w); got != time.Second {
		t.Errorf("one second before the end: %v", got)
	}
}

// A client that hangs up after its password was checked still has its
// attempt settled: settling does not inherit the request's cancellation.
func TestSettleSurvivesACancelledRequest(t *testing.T) {
	l := newLimiter(1, 1)
	l.Counters = ctxRespecting{l.Counters}
	ip := netip.MustParseAddr("198.51.100.1")
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		a, err := l.Begin(ctx, "alice", ip)
		if err != nil {
			t.Fatalf("attempt %d after cancelled successes: %v", i, err)
		}
		cancel()
		if err := a.Succeed(ctx); err != nil {
			t.Fatalf("Succeed after cancel: %v", err)
		}
	}
	a, _ := l.Begin(context.Background(), "alice", ip)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Fail(ctx); err != nil {
		t.Fatalf("Fail after cancel: %v", err)
	}
	_, err := l.Begin(context.Background(), "alice", ip)
	wantExceeded(t, err, ScopeIP, 0)
}

// ctxRespecting refuses calls with a done context, as the Redis store does;
// the memory store never blocks and ignores contexts.
type ctxRespecting struct{ store.Counters }

func (c ctxRespecting) Reserve(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	if err := ctx.Err(); err != nil {
		return store.Admission{}, err
	}
	return c.Counters.Reserve(ctx, r, now)
}

func (c ctxRespecting) Settle(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Counters.Settle(ctx, r, o, now)
}

// timingOut is a store whose Reserve reserves and then reports a timeout,
// as a Redis that stalled past the client's deadline does.
type timingOut struct {
	store.Counters
	withdrawn chan struct{}
}

func (s timingOut) Reserve(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	_, _ = s.Counters.Reserve(ctx, r, now)
	return store.Admission{}, fmt.Errorf("reserve attempt: %w", store.ErrUnavailable)
}

func (s timingOut) Settle(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error {
	err := s.Counters.Settle(ctx, r, o, now)
	if o == store.Withdrawn {
		close(s.withdrawn)
	}
	return err
}

// A Reserve whose answer was lost may still have reserved: the limiter
// withdraws it, so it does not hold a place until its hold ends.
func TestLostReserveIsWithdrawn(t *testing.T) {
	l := newLimiter(1, 0)
	st := timingOut{Counters: l.Counters, withdrawn: make(chan struct{})}
	l.Counters = st
	ip := netip.MustParseAddr("198.51.100.1")
	if _, err := l.Begin(context.Background(), "alice", ip); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Begin with the store timing out: %v", err)
	}
	select {
	case <-st.withdrawn:
	case <-time.After(10 * time.Second):
		t.Fatal("the reservation whose answer was lost was not withdrawn")
	}
	l.Counters = st.Counters
	succeed(t, l, "alice", "198.51.100.1")
}

// Every scope a refusal is counted under is one whose series the metrics
// make at 0 from the start (metrics.ThrottleLimits), so that the alerts'
// rates see a first burst of refusals.
func TestEveryScopeIsAThrottleLimitSeries(t *testing.T) {
	for _, s := range []Scope{ScopeUserIP, ScopeIP, ScopeSession, ScopeUserRate, ScopeClientRate} {
		if !slices.Contains(metrics.ThrottleLimits, string(s)) {
			t.Errorf("scope %q is not in metrics.ThrottleLimits %v", s, metrics.ThrottleLimits)
		}
	}
}
