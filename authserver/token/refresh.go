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
	"log/slog"
	"slices"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
)

// RefreshStore is the part of the store the refresh grant needs.
type RefreshStore interface {
	store.Refreshes
}

// RefreshGrant is the refresh token grant (RFC 6749 §6) with rotation: each
// refresh token is used once and replaced, and presenting a used one revokes
// its whole session (RFC 9700 §4.14.2).
type RefreshGrant struct {
	Store   RefreshStore
	Minter  *Minter
	Revoker *session.Revoker
	// States, if set, tells the user's state as validators see it: a
	// change written while the refresh is checked ends the session too.
	States StateSource
	// Limit bounds the refreshes of one session per window (Max 0: none).
	Limit throttle.Limit
	// Metrics, if set, counts refreshes refused by Limit.
	Metrics *metrics.Metrics
	// Log, if set, records every session the grant ends (a reused token,
	// one presented by another client, a user since disabled): rare and
	// telling events, never sampled.
	Log *slog.Logger
	// Audit, if set, records them in the audit trail, never sampled
	// either.
	Audit *audit.Logger
	// Clock decides expiry; nil is the real clock.
	Clock clock.PassiveClock
}

var _ Grant = (*RefreshGrant)(nil)

var errBadRefreshToken = oauth.InvalidGrant("invalid refresh token")

// errReused answers a refresh token of an earlier generation: used
// already, by the client or by someone holding a stolen copy.
var errReused = oauth.InvalidGrant("refresh token already used; the session is revoked")

// Handle exchanges a refresh token for new tokens, in two round trips:
// the session and the epoch, then the user's record with the rotation.
// Every check that can refuse the request without it being an attack and
// needs no record (epoch, client, the validators' view of the user,
// scope) runs before the token is used, so a client that retries after
// such an answer, or after a 503 before the rotation, is not mistaken for
// a replay. The store's atomic rotation then decides between concurrent
// presentations of the same token, and the record read with it can still
// end the session.
func (g *RefreshGrant) Handle(ctx context.Context, req *Request) (*Response, error) {
	return g.handle(ctx, req, nil)
}

var _ NamedClientGrant = (*RefreshGrant)(nil)

// HandleNamed is Handle for a client that names itself: its registration
// is read with the session and the epoch, and the client is judged first,
// from that reading, so the refresh still takes two round trips.
func (g *RefreshGrant) HandleNamed(ctx context.Context, req *Request, c *PendingClient) (*Response, error) {
	return g.handle(ctx, req, c)
}

// handle is Handle, with the client still to be judged when pending is
// set.
func (g *RefreshGrant) handle(ctx context.Context, req *Request, pending *PendingClient) (*Response, error) {
	tok, requested, err := refreshRequest(req.Form)
	if err != nil {
		if pending != nil {
			// Refused before any read: the client first, as when it is
			// authenticated before the grant.
			if err := pending.Authenticate(ctx, req); err != nil {
				return nil, err
			}
		}
		return nil, err
	}
	now := clocks.Or(g.Clock).Now()
	sess, err := g.current(ctx, tok, req, pending, now)
	if err != nil {
		return nil, err
	}
	if g.ended(ctx, store.UserState{}, sess) {
		return nil, g.revoke(ctx, sess, errBadRefreshToken, "the user was disabled, deleted or logged out")
	}
	if err := narrower(requested, sess.Scopes, req.Client.Scopes); err != nil {
		return nil, err
	}
	next := tok.Next()
	accessExp := g.Minter.accessExpiry(req.Client, now, sess.ExpiresAt)
	f, err := g.Store.FinishRefresh(ctx, sess.Username, sess.ID, store.Rotation{
		Generation: tok.Generation(), TokenHash: tok.Hash(),
		NextHash: next.Hash(), NextExpiresAt: g.Minter.refreshExpiry(req.Client, now, sess.ExpiresAt), AccessExpiresAt: accessExp,
		MaxPerWindow: g.Limit.Max, Window: g.Limit.Window,
	}, now)
	if err := g.rotated(ctx, sess, err); err != nil {
		return nil, err
	}
	// A failure from here on leaves the old token used: the client's retry
	// ends the session and the user logs in again. That fails closed; a
	// grace period for retries would not.
	user, scopes, err := g.still(ctx, sess, f, requested, req.Client)
	if err != nil {
		return nil, err
	}
	// The new tokens carry the session's authentication time and
	// credential mark, not this refresh's: a password change that lands
	// after the checks above still ends them, at every validator and at
	// the next refresh.
	resp, _, err := g.Minter.access(Session{
		User: user, Client: req.Client, Scopes: scopes,
		AuthTime: sess.AuthTime, Credential: sess.Credential, Epoch: sess.Epoch,
	}, sess.ID, now, sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	resp.RefreshToken = next.String()
	return resp, nil
}

// refreshRequest parses the request's refresh token, which it deletes
// from the form, and the requested scope.
func refreshRequest(form oauth.Form) (session.Token, []string, error) {
	raw := form.Get("refresh_token")
	delete(form, "refresh_token")
	if raw == "" {
		return session.Token{}, nil, oauth.InvalidRequest("missing parameter: refresh_token")
	}
	requested, err := oauth.ParseScope(form.Get("scope"))
	if err != nil {
		return session.Token{}, nil, err
	}
	tok, ok := session.Parse(raw)
	if !ok {
		return session.Token{}, nil, errBadRefreshToken
	}
	return tok, requested, nil
}

// current returns the session of tok if tok is its current refresh token,
// for the request's client, in the store's epoch, before the session's
// end. A token of an earlier generation, or one presented by another
// client, revokes the session; a session revoked already is revoked again
// (an earlier revocation may have stopped half-way). A pending client's
// registration is read with the session, and the client admitted before
// anything of the session is judged.
func (g *RefreshGrant) current(ctx context.Context, tok session.Token, req *Request, pending *PendingClient, now time.Time) (store.Session, error) {
	var clientID string
	if pending != nil {
		clientID = pending.ID
	}
	st, err := g.Store.BeginRefresh(ctx, tok.ID(), clientID)
	if pending != nil {
		if err := pending.Admit(ctx, req, st.Client, st.ClientErr); err != nil {
			return store.Session{}, err
		}
	}
	client, sess, epoch := req.Client, st.Session, st.Epoch
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, errBadRefreshToken.WithCause(err)
	case err != nil:
		return store.Session{}, oauth.StoreUnavailable(err)
	}
	req.Username, req.SessionID = sess.Username, sess.ID // for the audit trail
	standing := tok.StandingIn(sess)
	switch {
	case sess.Revoked:
		return store.Session{}, g.revoke(ctx, sess, errBadRefreshToken, "already revoked")
	case !now.Before(sess.TokenExpiresAt):
		// Expired: an old token presented after it is not reuse.
		return store.Session{}, errBadRefreshToken.WithCause(errors.New("refresh token expired"))
	case standing == session.Used:
		return store.Session{}, g.revoke(ctx, sess, errReused, "a used refresh token was presented again")
	case standing == session.Foreign:
		return store.Session{}, errBadRefreshToken // not a token this session issued: nothing to end
	case sess.ClientID != client.ID:
		// RFC 6749 §6: bound to the client it was issued to. Another client
		// holding it is a leak: end its session.
		return store.Session{}, g.revoke(ctx, sess, errBadRefreshToken, "presented by another client")
	case sess.ClientSource != client.Source:
		// The same client ID, another registration (the AuthClient was
		// deleted and another namespace's took the ID): the session was
		// the old client's, and ends.
		return store.Session{}, g.revoke(ctx, sess, errBadRefreshToken, "its client was registered anew")
	case !now.Before(sess.ExpiresAt):
		return store.Session{}, errBadRefreshToken.WithCause(errors.New("the session has ended"))
	}
	if epoch == "" {
		// A store without an epoch (it lost its data): one is written,
		// which no session of before has.
		if epoch, err = g.Minter.Epoch(ctx); err != nil {
			return store.Session{}, oauth.StoreUnavailable(err)
		}
	}
	if sess.Epoch != epoch {
		return store.Session{}, errBadRefreshToken
	}
	return sess, nil
}

// narrower refuses requested scopes beyond the session's (RFC 6749 §6) or
// the client's, before the token is used.
func narrower(requested, granted, clientScopes []string) error {
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return oauth.InvalidScope("requested scope exceeds the scope originally granted")
		}
		if len(clientScopes) > 0 && !slices.Contains(clientScopes, s) {
			return oauth.InvalidScope("requested scope is not granted to this client")
		}
	}
	return nil
}

// still returns the session's user, read with the rotation, and the scopes
// of the new tokens, if the user may still have them: not disabled,
// deleted or logged out since the login (which ends the session), and
// within what the user and the client are allowed now.
func (g *RefreshGrant) still(ctx context.Context, sess store.Session, f store.Refreshed, requested []string, client store.Client) (store.User, []string, error) {
	user, err := f.User, f.UserErr
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, nil, g.revoke(ctx, sess, errBadRefreshToken, "the user was deleted")
	case err != nil:
		return store.User{}, nil, oauth.StoreUnavailable(err)
	}
	if g.ended(ctx, user.State(), sess) {
		return store.User{}, nil, g.revoke(ctx, sess, errBadRefreshToken, "the user was disabled, deleted or logged out")
	}
	// Scopes taken away from the user or the client since the login do not
	// come back with a refresh; the OpenID Connect ones cannot be.
	var kept []string
	for _, s := range sess.Scopes {
		if slices.Contains(user.Scopes, s) || oauth.IsOpenIDScope(s) {
			kept = append(kept, s)
		}
	}
	scopes, err := grantScopes(requested, kept, client.Scopes)
	return user, scopes, err
}

// rotated judges the store's rotation.
func (g *RefreshGrant) rotated(ctx context.Context, sess store.Session, err error) error {
	var limited *store.RateLimitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrTokenReused):
		// Rotated meanwhile by a concurrent presentation of the same token:
		// the store has revoked the session; revoke its access tokens too.
		return g.revoke(ctx, sess, errReused.WithCause(err), "a used refresh token was presented again")
	case errors.As(err, &limited):
		if g.Metrics != nil {
			g.Metrics.ThrottleRejections.WithLabelValues(string(throttle.ScopeSession)).Inc()
		}
		return oauth.TooManyRequests("this session was refreshed too often; retry later", limited.RetryAfter)
	case errors.Is(err, store.ErrNotFound):
		// Revoked, expired or rotated while this request was checked.
		return g.revoke(ctx, sess, errBadRefreshToken.WithCause(err), "revoked or expired while the refresh was checked")
	}
	return oauth.StoreUnavailable(err)
}

// revoke ends the session, for why, and answers answer, or the store's
// failure.
func (g *RefreshGrant) revoke(ctx context.Context, sess store.Session, answer *oauth.Error, why string) error {
	if err := g.Revoker.Revoke(ctx, sess.ID, sess.AccessExpiresAt); err != nil {
		return err
	}
	if sess.Revoked {
		return answer // ended before: nothing new to record
	}
	if g.Log != nil {
		g.Log.WarnContext(ctx, "Refresh session ended", "sid", sess.ID, "client_id", sess.ClientID, "sub", sess.Username,
			"reason", why)
	}
	g.Audit.Record(ctx, audit.Event{Event: audit.Revocation, Outcome: audit.Success, Username: sess.Username,
		ClientID: sess.ClientID, SessionID: sess.ID, Reason: why})
	return answer
}

// ended reports whether the user's state, in the record (st; zero before
// it is read) or as the validators see it, ends the session.
func (g *RefreshGrant) ended(ctx context.Context, st store.UserState, sess store.Session) bool {
	if st.Ends(sess.AuthTime, sess.Credential) {
		return true
	}
	if g.States == nil {
		return false
	}
	seen, ok := g.States.State(ctx, sess.Username)
	return ok && seen.Ends(sess.AuthTime, sess.Credential)
}
