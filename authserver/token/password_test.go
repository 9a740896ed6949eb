package token

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authstack/authstack/authserver/accesstoken"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/password"
	"github.com/authstack/authstack/authserver/signer"
	"github.com/authstack/authstack/authserver/store"
	"github.com/authstack/authstack/authserver/store/memory"
	"github.com/authstack/authstack/authserver/throttle"
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
	fast := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	st := memory.New()
	aliceHash, _ := fast.Hash([]byte("alice-pw"))
	// bob's hash is of a slower class than the decoy: bcrypt cost 8.
	bobHash, _ := bcrypt.GenerateFromPassword([]byte("bob-pw"), 8)
	for _, u := range []store.User{{Username: "alice", PasswordHash: aliceHash}, {Username: "bob", PasswordHash: string(bobHash)}} {
		if err := st.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	v, err := password.NewVerifier(fast)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := signer.Generate("ES256")
	ks, _ := signer.NewKeySet(key)
	p := &pauses{}
	return &PasswordGrant{
		Users: st, Verifier: v, Pool: password.NewPool(password.PoolOptions{}),
		Limiter: &throttle.Limiter{Counters: st, PerUserIP: throttle.Limit{Max: 100, Window: time.Minute}, PerIP: throttle.Limit{Max: 100, Window: time.Minute}},
		Minter: &Minter{Tokens: &accesstoken.Issuer{Keys: signer.Static(ks), Issuer: "https://a.example"}, Store: st,
			DefaultAudience: []string{"https://a.example"}, AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour, Now: time.Now},
		Metrics: metrics.New(), Now: time.Now, Pause: p.record,
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
	g.Pool = password.NewPool(password.PoolOptions{Workers: 1, Queue: 1, MaxWait: time.Minute})
	release := make(chan struct{})
	started := make(chan struct{})
	go func() { _ = g.Pool.Do(context.Background(), func() { close(started); <-release }) }()
	<-started
	go func() { _ = g.Pool.Do(context.Background(), func() {}) }() // queued
	for !g.Pool.Full() {
		time.Sleep(time.Millisecond)
	}
	spy := &countingCounters{Counters: g.Limiter.Counters}
	g.Limiter.Counters = spy
	err := login(g, "alice", "alice-pw")
	if e := oauth.As(err); e.Status != 503 {
		t.Fatalf("full pool: %v", err)
	}
	close(release)
	if spy.adds != 0 {
		t.Fatalf("a refused request wrote %d throttle counters", spy.adds)
	}
}

// countingCounters counts writes to the real counters it wraps.
type countingCounters struct {
	throttle.Counters
	adds int
}

func (c *countingCounters) AddAttempt(ctx context.Context, key string, w time.Duration, now time.Time) (int64, error) {
	c.adds++
	return c.Counters.AddAttempt(ctx, key, w, now)
}

func TestUntilAfter(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		nb, now time.Time
		want    time.Duration
	}{
		{time.Time{}, base, 0},
		{base.Add(300 * time.Millisecond), base.Add(300 * time.Millisecond), 700 * time.Millisecond},
		{base.Add(300 * time.Millisecond), base.Add(900 * time.Millisecond), 100 * time.Millisecond},
		{base.Add(300 * time.Millisecond), base.Add(time.Second), 0},
		{base.Add(-5 * time.Second), base, 0},
		{base.Add(5 * time.Second), base, 0}, // skewed clocks: waiting would not help
	} {
		if got := untilAfter(c.nb, c.now); got != c.want {
			t.Errorf("untilAfter(%v, %v) = %v, want %v", c.nb.Sub(base), c.now.Sub(base), got, c.want)
		}
	}
}

// A login in the same second as the user's not-before time (a record just
// written, a password just changed) waits for the next second, so the token
// it gets is not already revoked.
func TestLoginRightAfterNotBeforeWaitsForTheNextSecond(t *testing.T) {
	g, p := newGrant(t)
	now := time.Unix(1_800_000_000, 300_000_000)
	g.Now = func() time.Time { return now }
	u, err := g.Users.GetUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	u.NotBefore = now
	if err := g.Users.(store.Store).PutUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if err := login(g, "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if got := p.take(); len(got) != 1 || got[0] != 700*time.Millisecond {
		t.Fatalf("pauses %v, want one of 700ms", got)
	}
}

type fixedStates map[string]time.Time

func (f fixedStates) NotBefore(u string) time.Time { return f[u] }

// Validators may know of a revocation a moment before the record does (the
// store writes the state first): the login waits for the later of the two.
func TestLoginWaitsForTheStateNotBefore(t *testing.T) {
	g, p := newGrant(t)
	g.States = fixedStates{"alice": time.Now()}
	if err := login(g, "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	d := p.take()
	if len(d) != 1 || d[0] <= 0 || d[0] > time.Second {
		t.Fatalf("pauses %v, want one wait for the next second", d)
	}
}
