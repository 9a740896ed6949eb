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
	Now     func() time.Time
}

var _ Grant = (*RefreshGrant)(nil)

var errBadRefreshToken = oauth.InvalidGrant("invalid refresh token")

// Handle exchanges a refresh token for new tokens.
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
	now := g.Now()
	t, err := g.Store.UseRefreshToken(ctx, HashRefreshToken(raw), now)
	switch {
	case errors.Is(err, store.ErrTokenReused):
		// Either the client or an attacker holds a stolen copy: end the
		// session for both.
		if err := g.Revoker.Revoke(ctx, t.Family, req.Client); err != nil {
			return nil, err
		}
		return nil, oauth.InvalidGrant("refresh token already used; the session is revoked").WithCause(err)
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefreshToken.WithCause(err)
	case err != nil:
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if t.ClientID != req.Client.ID {
		// RFC 6749 §6: bound to the client it was issued to. Another client
		// holding it is a leak: the token is spent, end its session.
		if err := g.Revoker.Revoke(ctx, t.Family, req.Client); err != nil {
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
	if user.Disabled || (!user.NotBefore.IsZero() && !t.AuthTime.After(user.NotBefore.Truncate(time.Second))) {
		// Disabled, password changed or tokens revoked since the login.
		if err := g.Revoker.Revoke(ctx, t.Family, req.Client); err != nil {
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
	return g.Minter.Mint(ctx, Session{User: user, Client: req.Client, Scopes: scopes, ID: t.Family, AuthTime: t.AuthTime, Epoch: epoch})
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
	Minter *Minter
	// Noter, if set, learns of the revocation at once.
	Noter Noter
	// Leeway is the validators' clock-skew leeway on exp.
	Leeway time.Duration
	Now    func() time.Time
}

// minSessionRevocation is the least time a revoked session is remembered:
// the longest access token lifetime expected of any client.
const minSessionRevocation = 24 * time.Hour

// Revoke ends the session family of client. Access tokens of the session
// were issued no later than now, so they expire before now plus the
// longest access token lifetime; the revocation is kept that long.
func (r *SessionRevoker) Revoke(ctx context.Context, family string, client store.Client) error {
	if err := r.Store.RevokeRefreshFamily(ctx, family); err != nil {
		return oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	until := r.Now().Add(max(minSessionRevocation, r.Minter.AccessTTL(client)) + r.Leeway)
	if err := r.Store.RevokeGrant(ctx, family, until); err != nil {
		return oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	if r.Noter != nil {
		r.Noter.Note(store.RevocationEvent{Grant: family, Until: until})
	}
	return nil
}
