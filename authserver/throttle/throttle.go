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

// Package throttle limits password and client-secret guessing (RFC 6749
// §4.3.2 and §2.3.1) with counters kept in the shared store, so the limits
// hold across every replica.
//
// Two limits judge each attempt: failures per (subject, client address),
// and failures per client address. There is deliberately no counter per
// username alone: an attacker elsewhere cannot lock a user out, only their
// own address. And a (subject, address) pair that succeeded recently is
// not held to the address's limit, only to its own: a sprayer sharing an
// address with other users (a NAT, a proxy) cannot lock out those who
// normally log in from it.
//
// An attempt is reserved before the credentials are checked. It is
// admitted while the failures in the window plus the attempts still in
// flight are below each limit, decided in one atomic store step, so a
// burst of parallel guesses cannot overshoot a limit while the first are
// still being checked. A success releases the reservation, a failure turns
// it into a counted failure, and an attempt that was never judged (an
// overload, a store error) withdraws it: only failures ever count, and a
// refusal leaves nothing behind.
package throttle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/store"
)

// Limit allows Max attempts per Window. Max 0 disables the limit.
type Limit struct {
	Max    int64
	Window time.Duration
}

// Defaults: ten failures per user and address in ten minutes, a hundred per
// address (NAT gateways carry many users) in ten minutes, and a pair that
// logged in from an address known there for a day.
var (
	DefaultPerUserIP = Limit{Max: 10, Window: 10 * time.Minute}
	DefaultPerIP     = Limit{Max: 100, Window: 10 * time.Minute}
	DefaultKnownFor  = 24 * time.Hour
)

const (
	// DefaultHold is how long a reservation counts when it is never settled
	// (its replica died mid-attempt), unless the limiter says otherwise.
	DefaultHold = 10 * time.Second
	// InFlightRetry is the Retry-After of an attempt refused only because
	// others were in flight: one of them settles within about a hash.
	InFlightRetry = time.Second
	// pollInterval is how often a waiting attempt looks again for places
	// freed by other replicas; those freed here wake it at once.
	pollInterval = 50 * time.Millisecond
)

// Scope names which limit refused an attempt.
type Scope string

const (
	// ScopeUserIP is the failure limit per username (or client) and address.
	ScopeUserIP Scope = "user_ip"
	// ScopeIP is the failure limit per address.
	ScopeIP Scope = "ip"
	// ScopeSession is the refresh grant's limit per session.
	ScopeSession Scope = "session"
)

// ExceededError is returned when an attempt is over a limit.
type ExceededError struct {
	Scope      Scope
	RetryAfter time.Duration
	// InFlight is set when only attempts still being checked fill the limit.
	InFlight bool
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("throttled per %s, retry after %s", e.Scope, e.RetryAfter)
}

// Limiter judges attempts.
type Limiter struct {
	Counters  store.Counters
	PerUserIP Limit
	PerIP     Limit
	// Namespace separates the counters of limiters that share a store:
	// client-secret failures must not use up an address's budget of
	// password failures, nor the other way round.
	Namespace string
	// Hold is how long an unsettled reservation counts; DefaultHold when
	// zero. It must outlast the longest attempt (the wait for a hashing
	// slot, the hash, the failure's pause), or a reservation could lapse
	// while its attempt is still being checked.
	Hold time.Duration
	// Wait is how long an attempt refused only because others are in
	// flight waits for one of them to settle before it is refused; zero
	// refuses at once.
	Wait time.Duration
	// KnownFor is how long a subject that succeeded from an address stays
	// exempt from that address's per-IP limit (its own per-subject limit
	// still applies); zero exempts nobody.
	KnownFor time.Duration
	// Clock is the clock of windows and holds; nil is the real clock.
	Clock clock.PassiveClock

	mu      sync.Mutex
	waiting map[string]*waiters // by limit key, while attempts wait on it
}

// waiters are the attempts waiting on one limit key; ch is closed when a
// reservation on the key settles in this process.
type waiters struct {
	ch chan struct{}
	n  int
}

// Validate refuses a limit that is on but has no window.
func (l Limit) Validate() error {
	if l.Max > 0 && l.Window <= 0 {
		return fmt.Errorf("throttle limit of %d needs a positive window", l.Max)
	}
	return nil
}

// Attempt is an admitted attempt. Exactly one of Succeed, Fail, Withdraw
// and EndWith ends it.
type Attempt struct {
	l *Limiter
	r store.Reservation // without limits when none is on
}

// Begin reserves an attempt on subject (a username, or "client:" and a
// client ID for client secrets) from ip. It returns an *ExceededError when
// a limit is used up, with a Retry-After of InFlightRetry when only
// attempts in flight fill it (after waiting up to Wait for one of them),
// and the store's error (wrapping store.ErrUnavailable) when the counters
// cannot be reached: the caller must then refuse the attempt, not let it
// through unchecked.
func (l *Limiter) Begin(ctx context.Context, subject string, ip netip.Addr) (*Attempt, error) {
	return l.BeginWith(ctx, subject, ip, l.reserve)
}

// Reserve is how a reservation reaches the store: store.Counters.Reserve,
// or a batch that sends it with other reads (store.Logins.BeginLogin). A
// reservation without limits is admitted.
type Reserve func(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error)

// BeginWith is Begin, reserving with reserve; it calls reserve even when
// no limit is on (with a reservation without limits), and again for each
// look after a wait.
func (l *Limiter) BeginWith(ctx context.Context, subject string, ip netip.Addr, reserve Reserve) (*Attempt, error) {
	r, scopes := l.reservation(subject, ip)
	deadline := time.Now().Add(l.Wait)
	for {
		now := l.now()
		a, err := reserve(ctx, r, now)
		if err != nil {
			// The reservation may have been made all the same (a command
			// that timed out here can still run on a stalled Redis): take
			// it back, off the request, so it does not hold a place.
			go func() { _ = (&Attempt{l: l, r: r}).Withdraw(context.WithoutCancel(ctx)) }()
			return nil, fmt.Errorf("throttle: %w", err)
		}
		if a.Admitted() {
			return &Attempt{l: l, r: r}, nil
		}
		lim := r.Limits[a.Refused]
		if !a.InFlight {
			return nil, &ExceededError{Scope: scopes[a.Refused], RetryAfter: untilWindowEnd(now, lim.Window)}
		}
		if err := l.await(ctx, r.Group+" "+lim.Key, deadline); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("throttle: %w", ctx.Err())
			}
			return nil, &ExceededError{Scope: scopes[a.Refused], RetryAfter: InFlightRetry, InFlight: true}
		}
	}
}

func (l *Limiter) reserve(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	if len(r.Limits) == 0 {
		return store.Admission{Refused: -1}, nil
	}
	return l.Counters.Reserve(ctx, r, now)
}

// errWaited ends a wait that ran out.
var errWaited = errors.New("waited for attempts in flight")

// await waits until a reservation on key settles in this process, or for
// pollInterval (places freed by other replicas are seen by looking again).
// It returns an error when the deadline has passed or ctx ended.
func (l *Limiter) await(ctx context.Context, key string, deadline time.Time) error {
	left := time.Until(deadline)
	if left <= 0 {
		return errWaited
	}
	t := time.NewTimer(min(left, pollInterval))
	defer t.Stop()
	w := l.join(key)
	defer l.leave(key, w)
	select {
	case <-w.ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (l *Limiter) join(key string) *waiters {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waiting == nil {
		l.waiting = make(map[string]*waiters)
	}
	w := l.waiting[key]
	if w == nil {
		w = &waiters{ch: make(chan struct{})}
		l.waiting[key] = w
	}
	w.n++
	return w
}

// leave forgets the key when its last waiter leaves without a wake-up:
// places freed by other replicas are never announced here.
func (l *Limiter) leave(key string, w *waiters) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.n--; w.n == 0 && l.waiting[key] == w {
		delete(l.waiting, key)
	}
}

// wake tells the attempts waiting on r's limits that a place may be free.
func (l *Limiter) wake(r store.Reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range r.Limits {
		key := r.Group + " " + lim.Key
		if w := l.waiting[key]; w != nil {
			close(w.ch)
			delete(l.waiting, key)
		}
	}
}

// reservation builds the reservation of an attempt on subject from ip, and
// the scope of each of its limits. The subject is hashed: keys have a fixed
// size whatever a client sends. The per-IP limit is judged first: an
// address that is spraying is reported as such.
func (l *Limiter) reservation(subject string, ip netip.Addr) (store.Reservation, []Scope) {
	sum := sha256.Sum256([]byte(subject))
	pair := "u|" + hex.EncodeToString(sum[:16])
	r := store.Reservation{Group: l.Namespace + "ip:" + source(ip), ID: rand.Text(), Hold: l.Hold}
	if r.Hold <= 0 {
		r.Hold = DefaultHold
	}
	var scopes []Scope
	if l.PerIP.Max > 0 {
		r.Limits = append(r.Limits, store.ThrottleLimit{Key: "ip", Max: l.PerIP.Max, Window: l.PerIP.Window, Waivable: l.KnownFor > 0})
		scopes = append(scopes, ScopeIP)
	}
	if l.PerUserIP.Max > 0 {
		r.Limits = append(r.Limits, store.ThrottleLimit{Key: pair, Max: l.PerUserIP.Max, Window: l.PerUserIP.Window})
		scopes = append(scopes, ScopeUserIP)
	}
	if l.KnownFor > 0 {
		r.Pass, r.PassTTL = pair, l.KnownFor
	}
	return r, scopes
}

func (l *Limiter) now() time.Time { return clocks.Or(l.Clock).Now() }

// settleTimeout bounds how long ending an attempt may take.
const settleTimeout = time.Second

// Succeed ends an attempt whose credentials were right: nothing is counted.
func (a *Attempt) Succeed(ctx context.Context) error { return a.settle(ctx, store.Succeeded) }

// Fail ends an attempt whose credentials were wrong: one failure counts on
// every limit.
func (a *Attempt) Fail(ctx context.Context) error { return a.settle(ctx, store.Failed) }

// Withdraw ends an attempt that was never judged (overload, a store error,
// a cancelled request): nothing is counted.
func (a *Attempt) Withdraw(ctx context.Context) error { return a.settle(ctx, store.Withdrawn) }

// Settle is how a settlement reaches the store: store.Counters.Settle, or
// a batch that sends it with other writes (store.Logins.FinishLogin). A
// reservation without limits has nothing to settle.
type Settle func(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error

// EndWith ends the attempt with o, settling with settle (called even when
// no limit is on, with a reservation without limits), detached from the
// request, for at most settleTimeout: a client that hangs up after its
// password was checked must neither leave its place taken nor escape its
// failure.
func (a *Attempt) EndWith(ctx context.Context, o store.Outcome, settle Settle) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	err := settle(ctx, a.r, o, a.l.now())
	a.l.wake(a.r)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

func (a *Attempt) settle(ctx context.Context, o store.Outcome) error {
	return a.EndWith(ctx, o, func(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error {
		if len(r.Limits) == 0 {
			return nil
		}
		return a.l.Counters.Settle(ctx, r, o, now)
	})
}

// nat64 is the NAT64 well-known prefix (RFC 6052 §2.1): its addresses
// carry an IPv4 address in their last 32 bits (§2.2, the /96 format).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// source names the client a counter is kept for: the IPv4 address, or the
// IPv6 /64 prefix, since one subscriber usually holds a whole /64 and could
// otherwise rotate through its addresses to escape the limits. A NAT64
// address is the IPv4 client it translates: behind a translator (an
// IPv6-only cluster's ingress), every IPv4 client of the Internet shares
// the prefix's /64, and grouping them by it would give them one budget.
func source(ip netip.Addr) string {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		return netip.AddrFrom4([4]byte(b[12:])).String()
	}
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// untilWindowEnd is the time left in the epoch-aligned window holding now.
func untilWindowEnd(now time.Time, window time.Duration) time.Duration {
	elapsed := time.Duration(now.UnixNano() % int64(window))
	return window - elapsed
}
