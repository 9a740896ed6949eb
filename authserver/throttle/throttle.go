// Package throttle limits password guessing (RFC 6749 §4.3.2) with counters
// kept in the shared store, so the limits hold across every replica.
//
// Two fixed-window counters are kept: one per (username, client IP) and one
// per client IP. There is deliberately no counter per username alone: an
// attacker elsewhere cannot lock a user out, only their own address.
//
// An attempt is counted before the password is checked, so a burst of
// parallel guesses cannot overshoot the limit while the first are still
// hashing; a successful attempt is taken back afterwards.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Counters is the part of the store the limiter needs.
type Counters interface {
	AddAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	RemoveAttempt(ctx context.Context, key string, window time.Duration, now time.Time) error
	CountAttempts(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
}

// Limit allows Max attempts per Window. Max 0 disables the limit.
type Limit struct {
	Max    int64
	Window time.Duration
}

// Defaults: ten failures per user and address in ten minutes, a hundred per
// address (NAT gateways carry many users) in ten minutes.
var (
	DefaultPerUserIP = Limit{Max: 10, Window: 10 * time.Minute}
	DefaultPerIP     = Limit{Max: 100, Window: 10 * time.Minute}
)

// Scope names which limit refused an attempt.
type Scope string

const (
	ScopeUserIP Scope = "user_ip"
	ScopeIP     Scope = "ip"
)

// ExceededError is returned when an attempt is over a limit.
type ExceededError struct {
	Scope      Scope
	RetryAfter time.Duration
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("throttled per %s, retry after %s", e.Scope, e.RetryAfter)
}

// Limiter counts attempts.
type Limiter struct {
	Counters  Counters
	PerUserIP Limit
	PerIP     Limit
	// Namespace separates the counters of limiters that share a store:
	// client-secret failures must not use up an address's budget of
	// password failures, nor the other way round.
	Namespace string
}

// Validate refuses a limit that is on but has no window.
func (l Limit) Validate() error {
	if l.Max > 0 && l.Window <= 0 {
		return fmt.Errorf("throttle limit of %d needs a positive window", l.Max)
	}
	return nil
}

// Attempt is a counted attempt; call Forget when the credentials were right,
// or when the attempt could not be judged, so that it does not count as a
// failure.
type Attempt struct {
	l       *Limiter
	now     time.Time
	userKey string
	ipKey   string
}

// Begin counts an attempt on subject (a username, or "client:" and a client
// ID for client secrets) from ip at now. It returns an *ExceededError when
// either limit is already used up, and the store's error (wrapping
// store.ErrUnavailable) when the counters cannot be reached: the caller must
// then refuse the attempt, not let it through unchecked.
func (l *Limiter) Begin(ctx context.Context, subject string, ip netip.Addr, now time.Time) (*Attempt, error) {
	ipKey, userKey := l.keys(subject, ip)
	a := &Attempt{l: l, now: now, ipKey: ipKey, userKey: userKey}
	// The per-IP limit first: a spraying address is refused before its
	// attempts touch the per-subject counters at all.
	if err := l.count(ctx, a.ipKey, l.PerIP, ScopeIP, now); err != nil {
		return nil, err
	}
	if err := l.count(ctx, a.userKey, l.PerUserIP, ScopeUserIP, now); err != nil {
		if l.PerIP.Max > 0 {
			// Not a new failure from this address: give the IP slot back.
			gctx, cancel := giveBackContext(ctx)
			_ = l.Counters.RemoveAttempt(gctx, a.ipKey, l.PerIP.Window, now)
			cancel()
		}
		return nil, err
	}
	return a, nil
}

func (l *Limiter) count(ctx context.Context, key string, lim Limit, scope Scope, now time.Time) error {
	if lim.Max <= 0 {
		return nil
	}
	n, err := l.Counters.AddAttempt(ctx, key, lim.Window, now)
	if err != nil {
		return fmt.Errorf("count attempt: %w", err)
	}
	if n > lim.Max {
		return &ExceededError{Scope: scope, RetryAfter: untilWindowEnd(now, lim.Window)}
	}
	return nil
}

// giveBackTimeout bounds how long taking an attempt back may take.
const giveBackTimeout = time.Second

// giveBackContext detaches a give-back from its request: a client that hangs
// up after its password was checked must not leave its attempt counted.
func giveBackContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), giveBackTimeout)
}

// Check refuses, with an *ExceededError, a subject whose failures from ip
// have used up either limit; it counts nothing. With Fail it is the
// failures-only counting used for client secrets: a right secret never
// touches a counter, so any number of concurrent requests of a client pass,
// and a refused client is not told whether its secret was right.
// Concurrent wrong guesses can overshoot the limit by their concurrency,
// which is harmless for secrets too random to guess.
func (l *Limiter) Check(ctx context.Context, subject string, ip netip.Addr, now time.Time) error {
	ipKey, userKey := l.keys(subject, ip)
	for _, c := range []struct {
		key   string
		lim   Limit
		scope Scope
	}{{ipKey, l.PerIP, ScopeIP}, {userKey, l.PerUserIP, ScopeUserIP}} {
		if c.lim.Max <= 0 {
			continue
		}
		n, err := l.Counters.CountAttempts(ctx, c.key, c.lim.Window, now)
		if err != nil {
			return fmt.Errorf("count attempts: %w", err)
		}
		if n >= c.lim.Max {
			return &ExceededError{Scope: c.scope, RetryAfter: untilWindowEnd(now, c.lim.Window)}
		}
	}
	return nil
}

// Fail counts one failure of subject from ip against both limits.
func (l *Limiter) Fail(ctx context.Context, subject string, ip netip.Addr, now time.Time) error {
	ipKey, userKey := l.keys(subject, ip)
	ctx, cancel := giveBackContext(ctx)
	defer cancel()
	var errs []error
	if l.PerIP.Max > 0 {
		_, err := l.Counters.AddAttempt(ctx, ipKey, l.PerIP.Window, now)
		errs = append(errs, err)
	}
	if l.PerUserIP.Max > 0 {
		_, err := l.Counters.AddAttempt(ctx, userKey, l.PerUserIP.Window, now)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keys returns the per-IP and per-subject-and-IP counter keys.
func (l *Limiter) keys(subject string, ip netip.Addr) (ipKey, userKey string) {
	src := source(ip)
	// The subject is hashed: keys have a fixed size whatever a client sends.
	sum := sha256.Sum256([]byte(subject))
	return l.Namespace + "ip:" + src, l.Namespace + "uip:" + src + "|" + hex.EncodeToString(sum[:16])
}

// Forget takes the attempt back from both counters. It runs to completion
// even when ctx has been cancelled, for at most a second.
func (a *Attempt) Forget(ctx context.Context) error {
	ctx, cancel := giveBackContext(ctx)
	defer cancel()
	var errs []error
	if a.l.PerUserIP.Max > 0 {
		errs = append(errs, a.l.Counters.RemoveAttempt(ctx, a.userKey, a.l.PerUserIP.Window, a.now))
	}
	if a.l.PerIP.Max > 0 {
		errs = append(errs, a.l.Counters.RemoveAttempt(ctx, a.ipKey, a.l.PerIP.Window, a.now))
	}
	return errors.Join(errs...)
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
