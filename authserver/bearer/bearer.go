// Package bearer authenticates requests to protected resources of the token
// server itself (/userinfo today; forward-auth later): it reads an RFC 6750
// Authorization header, validates the RFC 9068 access token, and checks that
// the user behind it may still use it.
package bearer

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/authstack/authstack/authserver/accesstoken"
	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/store"
)

// UserStore is the part of the store this package needs.
type UserStore interface {
	GetUser(ctx context.Context, username string) (store.User, error)
}

// TokenValidator validates access tokens.
type TokenValidator interface {
	Validate(raw string) (*accesstoken.Claims, error)
}

// Authenticator checks bearer tokens.
type Authenticator struct {
	Tokens TokenValidator
	Users  UserStore
}

// Principal is an authenticated bearer: the token's claims and the current
// record of its user.
type Principal struct {
	Claims *accesstoken.Claims
	User   store.User
}

// Authenticate returns the principal of r or an *oauth.Error carrying the
// RFC 6750 challenge: 401 without an error code when no token was sent,
// 400 invalid_request for a malformed header, 401 invalid_token for a token
// that is invalid or no longer usable, 503 when the store cannot be asked.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	raw, err := accesstoken.ParseBearer(r.Header.Get("Authorization"))
	switch {
	case errors.Is(err, accesstoken.ErrNoToken):
		return nil, oauth.BearerChallenge("", "")
	case err != nil:
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "malformed authorization header")
	}
	claims, err := a.Tokens.Validate(raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, reason(err))
	case err != nil:
		return nil, oauth.ServerError(err)
	}
	user, err := a.Users.GetUser(r.Context(), claims.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, "token revoked")
	case err != nil:
		// The token may well be valid: say so by not challenging it.
		return nil, oauth.Unavailable("store unavailable", time.Second, err)
	}
	if revoked(claims, user) {
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, "token revoked")
	}
	return &Principal{Claims: claims, User: user}, nil
}

// revoked reports whether the user's record no longer allows the token: the
// user is disabled, or the token was issued before the user's not-before
// time (a password change or revokeTokensBefore). iat has whole seconds, so a
// token from the same second as the bound is rejected: fail closed.
func revoked(c *accesstoken.Claims, u store.User) bool {
	if u.Disabled {
		return true
	}
	if u.NotBefore.IsZero() {
		return false
	}
	if c.IssuedAt == nil {
		return true
	}
	return !c.IssuedAt.After(u.NotBefore.Truncate(time.Second))
}

// reason returns the short explanation carried by a validation error
// ("token expired"); accesstoken guarantees it never contains the token.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), accesstoken.ErrInvalidToken.Error()+": ")
}
