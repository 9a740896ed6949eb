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
