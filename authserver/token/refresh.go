package token

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/store"
)

// RefreshStore is the part of the store the refresh grant needs.
type RefreshStore interface {
	GetUser(ctx context.Context, username string) (store.User, error)
	GetRefreshToken(ctx context.Context, hash string, now time.Time) (store.RefreshToken, error)
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (store.RefreshToken, error)
	RevokeRefreshFamily(ctx context.Context, family string) error
	RevokeGrant(ctx context.Context, grant string, until time.Time) error
}

// Noter learns of revocations this replica writes (the revocation mirror).
type Noter interface {
	Note(e store.RevocationEvent)
}

// RefreshGrant is the refresh token grant (RFC 6749 §6) with rotation: each
// refresh token is used once and replaced, and presenting a used one revokes
// its whole session (RFC 9700 §4.14.2).
type RefreshGrant struct {
	Store   RefreshStore
	Minter  *Minter
	Revoker *SessionRevoker
	// States, if set, tells the user's state as validators see it: a
	// change written while the refresh is checked ends the session too.
	States StateSource
	Now    func() time.Time
}

var _ Grant = (*RefreshGrant)(nil)

var errBadRefreshToken = oauth.InvalidGrant("invalid refresh token")

// Handle exchanges a refresh token for new tokens. Every check that can
// refuse the request without it being an attack (epoch, user, scope) runs
// before the token is used, so a client that retries after such an answer,
// or after a 503, is not mistaken for a replay. The store's atomic use then
// decides between concurrent presentations of the same token.
func (g *RefreshGrant) Handle(ctx context.Context, req *Request) (*Response, error) {
	raw := req.Form.Get("refresh_token")
	delete(req.Form, "refresh_token")
	if raw == "" {
		return nil, oauth.InvalidRequest("missing parameter: refresh_token")
	}
	requested, err := oauth.ParseScope(req.Form.Get("scope"))
	if err != nil {
		return nil, err
	}
	if !plausibleRefreshToken(raw) {
		return nil, errBadRefreshToken
	}
	hash := HashRefreshToken(raw)
	t, err := g.Store.GetRefreshToken(ctx, hash, g.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefreshToken.WithCause(err)
	case err != nil:
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if t.Revoked {
		// Revoke its access tokens again: an earlier revocation may have
		// stopped half-way (the refresh tokens revoked, the sid not).
		if err := g.Revoker.Revoke(ctx, t.Family); err != nil {
			return nil, err
		}
		return nil, errBadRefreshToken
	}
	if t.ClientID != req.Client.ID {
		// RFC 6749 §6: bound to the client it was issued to. Another client
		// holding it is a leak: end its session.
		if err := g.Revoker.Revoke(ctx, t.Family); err != nil {
			return nil, err
		}
		return nil, errBadRefreshToken
	}
	epoch, err := g.Minter.Epoch(ctx)
	if err != nil {
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if t.Epoch != epoch {
		return nil, errBadRefreshToken
	}
	user, err := g.Store.GetUser(ctx, t.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefreshToken
	case err != nil:
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if g.ended(ctx, user, t) {
		// Disabled, password changed or tokens revoked since the login.
		if err := g.Revoker.Revoke(ctx, t.Family); err != nil {
			return nil, err
		}
		return nil, errBadRefreshToken
	}
	for _, s := range requested {
		if !slices.Contains(t.Scopes, s) {
			return nil, oauth.InvalidScope("requested scope exceeds the scope originally granted")
		}
	}
	// What the user and the client are allowed now bounds the new tokens:
	// scopes taken away since the login do not come back with a refresh.
	var still []string
	for _, s := range t.Scopes {
		if slices.Contains(user.Scopes, s) {
			still = append(still, s)
		}
	}
	scopes, err := grantScopes(requested, still, req.Client.Scopes)
	if err != nil {
		return nil, err
	}

	used, err := g.Store.UseRefreshToken(ctx, hash, g.Now())
	switch {
	case errors.Is(err, store.ErrTokenReused):
		// Used already: the client or an attacker holds a stolen copy. End
		// the session for both.
		if err := g.Revoker.Revoke(ctx, t.Family); err != nil {
			return nil, err
		}
		return nil, oauth.InvalidGrant("refresh token already used; the session is revoked").WithCause(err)
	case errors.Is(err, store.ErrNotFound) && used.Revoked:
		// Revoked while this request was being checked.
		if err := g.Revoker.Revoke(ctx, t.Family); err != nil {
			return nil, err
		}
		return nil, errBadRefreshToken
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefreshToken.WithCause(err)
	case err != nil:
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	// A failure from here on (storing the new refresh token) leaves the old
	// one used: the client's retry ends the session and the user logs in
	// again. That fails closed; a grace period for retries would not.
	// The new tokens carry the session's authentication time and
	// credential mark, not this refresh's: a password change that lands
	// after the checks above still ends them, at every validator and at
	// the next refresh.
	return g.Minter.Mint(ctx, Session{
		User: user, Client: req.Client, Scopes: scopes, ID: t.Family,
		AuthTime: t.AuthTime, Credential: t.Credential, Epoch: epoch,
	})
}

// ended reports whether the user's state, in the record or as the
// validators see it, ends the session of t.
func (g *RefreshGrant) ended(ctx context.Context, user store.User, t store.RefreshToken) bool {
	if user.State().Ends(t.AuthTime, t.Credential) {
		return true
	}
	if g.States == nil {
		return false
	}
	st, ok := g.States.State(ctx, user.Username)
	return ok && st.Ends(t.AuthTime, t.Credential)
}

// plausibleRefreshToken rejects values no refresh token of this server can
// have before they reach the store.
func plausibleRefreshToken(raw string) bool {
	if len(raw) < 16 || len(raw) > 256 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// SessionRevoker ends a session: its refresh tokens, and the access tokens
// issued with them (their "sid").
type SessionRevoker struct {
	Store interface {
		RevokeRefreshFamily(ctx context.Context, family string) error
		RevokeGrant(ctx context.Context, grant string, until time.Time) error
	}
	// Noter, if set, learns of the revocation at once.
	Noter Noter
	// Leeway is the validators' clock-skew leeway on exp.
	Leeway time.Duration
	Now    func() time.Time
}

// sessionMargin covers an access token minted by a refresh that raced the
// revocation and finished a little after it.
const sessionMargin = time.Minute

// Revoke ends a session. Its access tokens were issued no later than now
// (give or take a racing refresh), with lifetimes of at most
// MaxAccessTokenTTL, so the sid is kept revoked that long plus the
// validators' leeway and a margin. The sid goes first: if the second step
// fails, the refresh tokens still work, so the client's retry (of /revoke,
// or a refresh) reaches this again; the other order could leave the refresh
// tokens revoked, retries answered "unknown token", and the access tokens
// alive.
func (r *SessionRevoker) Revoke(ctx context.Context, family string) error {
	until := r.Now().Add(MaxAccessTokenTTL + r.Leeway + sessionMargin)
	if err := r.Store.RevokeGrant(ctx, family, until); err != nil {
		return oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if r.Noter != nil {
		r.Noter.Note(store.RevocationEvent{Grant: family, Until: until})
	}
	if err := r.Store.RevokeRefreshFamily(ctx, family); err != nil {
		return oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	return nil
}
