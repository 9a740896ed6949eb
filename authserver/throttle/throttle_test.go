package throttle

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/store/memory"
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

// Rotating through the addresses of one IPv6 /64 does not escape the limit.
func TestIPv6RotationSharesOneBudget(t *testing.T) {
	l := &Limiter{Counters: memory.New(), PerUserIP: Limit{Max: 3, Window: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < 3; i++ {
		ip := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)})
		if _, err := l.Begin(context.Background(), "alice", ip, now); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := l.Begin(context.Background(), "alice", netip.MustParseAddr("2001:db8::ffff"), now)
	var exceeded *ExceededError
	if !errors.As(err, &exceeded) || exceeded.Scope != ScopeUserIP {
		t.Fatalf("fourth address of the /64: %v, want the user_ip limit", err)
	}
	if exceeded.RetryAfter <= 0 || exceeded.RetryAfter > time.Minute {
		t.Errorf("RetryAfter %v", exceeded.RetryAfter)
	}
	// Another /64 is another client.
	if _, err := l.Begin(context.Background(), "alice", netip.MustParseAddr("2001:db8:0:1::1"), now); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

func TestForgetTakesTheAttemptBack(t *testing.T) {
	l := &Limiter{Counters: memory.New(), PerUserIP: Limit{Max: 1, Window: time.Minute}, PerIP: Limit{Max: 1, Window: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("198.51.100.1")
	for i := 0; i < 5; i++ {
		a, err := l.Begin(context.Background(), "alice", ip, now)
		if err != nil {
			t.Fatalf("attempt %d after successes: %v", i, err)
		}
		if err := a.Forget(context.Background()); err != nil {
			t.Fatal(err)
		}
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
// attempt taken back: Forget does not inherit the request's cancellation.
func TestForgetSurvivesACancelledRequest(t *testing.T) {
	l := &Limiter{Counters: ctxRespecting{memory.New()}, PerUserIP: Limit{Max: 1, Window: time.Minute}, PerIP: Limit{Max: 1, Window: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("198.51.100.1")
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		a, err := l.Begin(ctx, "alice", ip, now)
		if err != nil {
			t.Fatalf("attempt %d after cancelled successes: %v", i, err)
		}
		cancel()
		if err := a.Forget(ctx); err != nil {
			t.Fatalf("Forget after cancel: %v", err)
		}
	}
}

// An attempt refused by the per-user limit is not a new failure from the
// address: the per-IP slot it took is given back, so other users behind the
// same address keep their budget.
func TestRefusedAttemptGivesTheIPSlotBack(t *testing.T) {
	l := &Limiter{Counters: memory.New(), PerUserIP: Limit{Max: 2, Window: time.Minute}, PerIP: Limit{Max: 4, Window: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	ip := netip.MustParseAddr("198.51.100.1")
	for i := 0; i < 2; i++ {
		if _, err := l.Begin(context.Background(), "alice", ip, now); err != nil {
			t.Fatal(err)
		}
	}
	var exceeded *ExceededError
	for i := 0; i < 10; i++ {
		if _, err := l.Begin(context.Background(), "alice", ip, now); !errors.As(err, &exceeded) || exceeded.Scope != ScopeUserIP {
			t.Fatalf("alice over her limit: %v", err)
		}
	}
	// Two of the four IP slots are used; bob gets the other two.
	for i := 0; i < 2; i++ {
		if _, err := l.Begin(context.Background(), "bob", ip, now); err != nil {
			t.Fatalf("bob's attempt %d: %v (refused alice attempts used the address's budget)", i, err)
		}
	}
	if _, err := l.Begin(context.Background(), "carol", ip, now); !errors.As(err, &exceeded) || exceeded.Scope != ScopeIP {
		t.Fatalf("fifth counted attempt from the address: %v, want the ip limit", err)
	}
}

// ctxRespecting refuses calls with a done context, as the Redis store does;
// the memory store never blocks and ignores contexts.
type ctxRespecting struct{ Counters }

func (c ctxRespecting) AddAttempt(ctx context.Context, key string, w time.Duration, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return c.Counters.AddAttempt(ctx, key, w, now)
}

func (c ctxRespecting) RemoveAttempt(ctx context.Context, key string, w time.Duration, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Counters.RemoveAttempt(ctx, key, w, now)
}
