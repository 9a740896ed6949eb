package token

import (
	"context"
	"errors"
	"time"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/password"
	"github.com/authstack/authstack/authserver/store"
	"github.com/authstack/authstack/authserver/throttle"
)

// UserStore is the part of the store the password grant needs.
type UserStore interface {
	GetUser(ctx context.Context, username string) (store.User, error)
}

// PasswordGrant is the resource owner password credentials grant
// (RFC 6749 §4.3).
type PasswordGrant struct {
	Users    UserStore
	Verifier *password.Verifier
	Pool     *password.Pool
	Limiter  *throttle.Limiter
	Minter   *Minter
	// States, if set, tells the user's not-before time as validators see
	// it. The store writes a user's state before the record, so for a
	// moment after a revocation it is later than the record's; a token
	// issued in that moment must still wait for the next second.
	States interface {
		NotBefore(username string) time.Time
	}
	Metrics *metrics.Metrics
	// Pause waits out the rest of a failure's time floor; nil means a timer
	// that ends early when ctx does. Tests replace it.
	Pause func(ctx context.Context, d time.Duration)
	Now   func() time.Time
}

var _ Grant = (*PasswordGrant)(nil)

// errBadCredentials is the one answer for an unknown user, a disabled user
// and a wrong password, so that none of them can be told apart.
var errBadCredentials = oauth.InvalidGrant("invalid username or password")

// Handle checks the resource owner's credentials and issues a token.
func (g *PasswordGrant) Handle(ctx context.Context, req *Request) (*Response, error) {
	username, pw := req.Form.Get("username"), req.Form.Get("password")
	// The password leaves the request as soon as it has been read.
	delete(req.Form, "password")
	switch {
	case username == "":
		return nil, oauth.InvalidRequest("missing parameter: username")
	case pw == "":
		return nil, oauth.InvalidRequest("missing parameter: password")
	}
	requested, err := oauth.ParseScope(req.Form.Get("scope"))
	if err != nil {
		return nil, err
	}
	if err := allowedByClient(requested, req.Client.Scopes); err != nil {
		return nil, err
	}
	if !v1alpha1.ValidName(username) {
		// No user can have this name (the CRD schema forbids it), and the
		// rule is public: refuse before touching the store.
		return nil, errBadCredentials
	}
	if err := g.Overloaded(); err != nil {
		// Checked again: the handler's check came before client authentication.
		return nil, err
	}

	now := g.Now()
	attempt, err := g.Limiter.Begin(ctx, username, req.ClientIP, now)
	if err != nil {
		var exceeded *throttle.ExceededError
		if errors.As(err, &exceeded) {
			g.Metrics.ThrottleRejections.WithLabelValues(string(exceeded.Scope)).Inc()
			return nil, oauth.TooManyRequests(exceeded.RetryAfter)
		}
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}

	user, err := g.Users.GetUser(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		_ = attempt.Forget(ctx)
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	// user is the zero record when unknown: its empty hash makes the
	// verifier spend the decoy's work instead.
	start := time.Now()
	ok, err := g.verify(ctx, user.PasswordHash, pw)
	if errors.Is(err, password.ErrOverloaded) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		_ = attempt.Forget(ctx)
		if errors.Is(err, password.ErrOverloaded) {
			g.Metrics.HashOverloads.Inc()
		}
		return nil, oauth.Unavailable("server busy; retry later", time.Second, err)
	}
	if !ok || user.Disabled {
		// Every failure lasts at least as long as the slowest class of hash,
		// so a user with a slower hash does not stand out from an unknown one.
		// The wait is outside the hashing slot: it costs no CPU.
		g.pause(ctx, g.Verifier.FailureFloor()-time.Since(start))
		return nil, errBadCredentials.WithCause(err)
	}
	if err := attempt.Forget(ctx); err != nil {
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}

	scopes, err := grantScopes(requested, user.Scopes, req.Client.Scopes)
	if err != nil {
		return nil, err
	}
	epoch, err := g.Minter.Epoch(ctx)
	if err != nil {
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	// A token whose iat is not after the user's not-before second is
	// rejected by every validator; right after a password change or a
	// revocation, wait for the next second instead of issuing a dead token.
	nbf := user.NotBefore
	if g.States != nil {
		if s := g.States.NotBefore(user.Username); s.After(nbf) {
			nbf = s
		}
	}
	g.pause(ctx, untilAfter(nbf, g.Now()))
	return g.Minter.Mint(ctx, Session{User: user, Client: req.Client, Scopes: scopes, Epoch: epoch})
}

// maxNotBeforeWait bounds the wait for a not-before second to pass: a record
// further in the future means skewed clocks, which waiting will not fix.
const maxNotBeforeWait = 2 * time.Second

// untilAfter is how long until a token issued would have an iat (whole
// seconds) after notBefore's second; 0 when it already would, or when the
// wait would exceed maxNotBeforeWait.
func untilAfter(notBefore, now time.Time) time.Duration {
	if notBefore.IsZero() {
		return 0
	}
	d := notBefore.Truncate(time.Second).Add(time.Second).Sub(now)
	if d <= 0 || d > maxNotBeforeWait {
		return 0
	}
	return d
}

// Overloaded refuses a request when every hashing slot is taken and the
// queue is full, before the request writes any throttle counter.
func (g *PasswordGrant) Overloaded() error {
	if !g.Pool.Full() {
		return nil
	}
	g.Metrics.HashOverloads.Inc()
	return oauth.Unavailable("server busy; retry later", time.Second, password.ErrOverloaded)
}

func (g *PasswordGrant) pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	if g.Pause != nil {
		g.Pause(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// verify runs one password check in the bounded hashing pool.
func (g *PasswordGrant) verify(ctx context.Context, hash, pw string) (bool, error) {
	var ok bool
	var verr error
	err := g.Pool.DoWeighted(ctx, g.Verifier.Threads(hash), func() {
		start := time.Now()
		ok, verr = g.Verifier.Verify(hash, []byte(pw))
		g.Metrics.HashDuration.Observe(time.Since(start).Seconds())
	})
	if err != nil {
		return false, err
	}
	return ok, verr
}
