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
	"errors"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
)

// PasswordGrant is the resource owner password credentials grant
// (RFC 6749 §4.3).
type PasswordGrant struct {
	// Logins is the store, which BeginLogin and FinishLogin reach in a
	// round trip each, around the hash.
	Logins   store.Logins
	Verifier *password.Verifier
	Pool     *password.Pool
	Limiter  *throttle.Limiter
	// Rate, if set, bounds each username's successful logins in a window,
	// across addresses: one credential cannot spend the pool for long.
	// Failures are left to Limiter, so that nobody else can use it up.
	Rate   *throttle.RateLimit
	Minter *Minter
	// Throttled, if set, keeps the users whose logins a limit refused, for
	// their AuthUser's status.
	Throttled *throttle.Recorder
	// States, if set, tells the user's state as validators see it (the
	// revocation mirror). The store writes a user's state before the
	// record, so a change that lands while a password is being checked
	// shows there first; a login that checked a superseded credential is
	// refused rather than issued a token.
	States  StateSource
	Metrics *metrics.Metrics
	// Pause waits out the rest of a failure's time floor; nil means a timer
	// that ends early when ctx does. Tests replace it.
	Pause func(ctx context.Context, d time.Duration)
	// Clock stamps auth_time; nil is the real clock.
	Clock clock.PassiveClock
}

var _ Grant = (*PasswordGrant)(nil)

// errBadCredentials is the one answer for an unknown user, a disabled user
// and a wrong password, so that none of them can be told apart.
var errBadCredentials = oauth.InvalidGrant("invalid username or password")

// Handle checks the resource owner's credentials and issues a token.
func (g *PasswordGrant) Handle(ctx context.Context, req *Request) (*Response, error) {
	// Usernames are case-insensitive: records are kept, and tokens
	// issued, under the canonical form.
	username, pw := v1alpha1.CanonicalName(req.Form.Get("username")), req.Form.Get("password")
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

	// One round trip before the hash: the rate counter, the reservation,
	// the record and the epoch. The session is authenticated when the
	// record is read: the password is checked against that version of it,
	// whenever the check ends. A refused reservation leaves the record
	// unused.
	rate := g.Rate.Counter(username)
	var begun store.LoginState
	var authTime time.Time
	attempt, err := g.Limiter.BeginWith(ctx, username, req.ClientIP, func(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
		authTime = clocks.Or(g.Clock).Now()
		var err error
		begun, err = g.Logins.BeginLogin(ctx, store.LoginStart{Username: username, Rate: rate, Reservation: r}, now)
		return begun.Admission, err
	})
	if begun.Known {
		// For the audit trail: a name the store has a user of.
		req.Username = username
	}
	if err != nil {
		return nil, g.refuse(req, err)
	}
	if err := g.Rate.Judge(begun.Rate); err != nil {
		_ = attempt.Withdraw(ctx)
		return nil, g.refuse(req, err)
	}
	user := begun.User
	// user is the zero record when unknown: its empty hash makes the
	// verifier spend the decoy's work instead.
	start := time.Now()
	ok, verr := g.verify(ctx, username, user.PasswordHash, pw)
	if errors.Is(verr, password.ErrOverloaded) || errors.Is(verr, context.Canceled) || errors.Is(verr, context.DeadlineExceeded) {
		// Never judged: the attempt leaves nothing counted.
		_ = attempt.Withdraw(ctx)
		if errors.Is(verr, password.ErrOverloaded) {
			g.Metrics.HashOverloads.Inc()
		}
		return nil, oauth.Unavailable("server busy; retry later", time.Second, verr)
	}
	if !ok || user.Disabled {
		failed := attempt.Fail(ctx)
		// Every failure lasts at least as long as the slowest class of hash,
		// so a user with a slower hash does not stand out from an unknown one.
		// The wait is outside the hashing slot: it costs no CPU.
		g.pause(ctx, g.Verifier.FailureFloor()-time.Since(start))
		if failed != nil {
			// A failure that cannot be counted is not answered as one.
			return nil, oauth.StoreUnavailable(failed)
		}
		return nil, errBadCredentials.WithCause(verr)
	}
	resp, sess, refused := g.issue(ctx, req, requested, user, begun.Epoch, authTime)
	// One round trip after the hash: the success settled and counted
	// whatever the answer, and the session stored with them if there is
	// one. Its refresh token goes out only if all of it was written.
	var evicted []string
	err = attempt.EndWith(ctx, store.Succeeded, func(ctx context.Context, r store.Reservation, o store.Outcome, now time.Time) error {
		var err error
		evicted, err = g.Logins.FinishLogin(ctx, store.LoginEnd{
			Reservation: r, Outcome: o, Rate: rate, Session: sess, MaxSessions: g.Minter.MaxSessionsPerUser,
			LastLogin: lastLogin(username, refused),
		}, now)
		return err
	})
	// The sessions pushed out of the user's index end even if this one
	// failed: the index has forgotten them already.
	evictErr := g.Minter.evict(ctx, username, evicted)
	switch {
	case err != nil:
		return nil, oauth.StoreUnavailable(err)
	case evictErr != nil:
		return nil, evictErr
	case refused != nil:
		return nil, refused
	}
	return resp, nil
}

// refuse answers a login the throttle refused; the refusal of a user that
// exists (req.Username is set once the login read its record) is kept for
// its status.
func (g *PasswordGrant) refuse(req *Request, err error) error {
	if req.Username != "" {
		g.Throttled.Note(req.Username, err)
	}
	return throttle.Refusal(g.Metrics, err)
}

// lastLogin is the username whose login FinishLogin records: the user's,
// unless the login was refused after the password check.
func lastLogin(username string, refused error) string {
	if refused != nil {
		return ""
	}
	return username
}

// issue judges the login's scopes and current state and signs its tokens,
// with the session to store (nil without a refresh token); or refuses.
// epoch is the store's ("" when it has none: one is written).
func (g *PasswordGrant) issue(ctx context.Context, req *Request, requested []string, user store.User, epoch string, authTime time.Time) (*Response, *store.Session, error) {
	scopes, err := grantScopes(requested, user.Scopes, req.Client.Scopes)
	if err != nil {
		return nil, nil, err
	}
	mark := store.CredentialMark(user.NotBefore)
	if err := current(ctx, user.Username, user.State(), g.States, authTime, mark, userRefusals); err != nil {
		return nil, nil, err
	}
	if epoch == "" {
		if epoch, err = g.Minter.Epoch(ctx); err != nil {
			return nil, nil, oauth.StoreUnavailable(err)
		}
	}
	return g.Minter.Issue(Session{
		User: user, Client: req.Client, Scopes: scopes, AuthTime: authTime, Credential: mark, Epoch: epoch,
	})
}

// StateSource tells a user's state as the validators see it.
type StateSource interface {
	State(ctx context.Context, username string) (store.UserState, bool)
}

// maxNotBeforeRetry is the furthest a user's not-before may lie ahead of a
// login for the login to be answered "retry" (503): that far is clock skew
// between the manager and this server, or a revokeTokensBefore about to
// pass. Further ahead, the user is locked out until then, like a disabled
// one.
const maxNotBeforeRetry = 2 * time.Second

// errCredentialChanged answers a login whose password was checked against
// a record that changed meanwhile (a password change, a disable, a
// revocation written while the hash ran): its token would be refused, so
// none is issued, and a retry is judged against the new record.
var errCredentialChanged = oauth.Unavailable("the user's credentials changed during the login; retry", time.Second,
	errors.New("credential superseded while it was checked"))

// refusals are a kind of subject's answers from current.
type refusals struct {
	// changed: the record changed while it was checked; retry.
	changed *oauth.Error
	// locked: the not-before lies far ahead.
	locked *oauth.Error
	// soon describes a not-before a moment ahead.
	soon string
}

var userRefusals = refusals{
	changed: errCredentialChanged,
	locked:  errBadCredentials.WithCause(errors.New("tokens are revoked until a later time")),
	soon:    "the user's tokens are revoked until a moment from now; retry",
}

// current refuses a login whose session the validators would refuse at
// once: one whose record changed while the password was checked (the
// mirror holds a state that ends it, or no state at all), or whose
// not-before is still ahead. No token is issued that authstack itself
// rejects, and none from a superseded credential, whenever the response
// would have gone out. name is the subject's name in the revocation feed,
// st its record's state.
func current(ctx context.Context, name string, st store.UserState, states StateSource, authTime time.Time, mark int64, r refusals) error {
	if states != nil {
		if seen, ok := states.State(ctx, name); !ok || seen.Ends(authTime, mark) {
			return r.changed
		}
	}
	if !st.Ends(authTime, mark) {
		return nil
	}
	ahead := st.NotBefore.Truncate(time.Second).Sub(authTime.Truncate(time.Second))
	if ahead > maxNotBeforeRetry {
		return r.locked
	}
	return oauth.Unavailable(r.soon, ahead, errors.New("not-before ahead of the login"))
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

// verify runs one password check in the bounded hashing pool, in the
// username's turn: one user's requests cannot take every slot.
func (g *PasswordGrant) verify(ctx context.Context, username, hash, pw string) (bool, error) {
	var ok bool
	var verr error
	err := g.Pool.DoFor(ctx, username, g.Verifier.Threads(hash), func() {
		start := time.Now()
		ok, verr = g.Verifier.Verify(hash, []byte(pw))
		g.Metrics.HashDuration.Observe(time.Since(start).Seconds())
	})
	if err != nil {
		return false, err
	}
	return ok, verr
}
