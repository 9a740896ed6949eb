// Package bearer authenticates requests to protected resources of the token
// server itself (/userinfo, /verify): it reads an RFC 6750 Authorization
// header, validates the RFC 9068 access token, and asks the revocation
// mirror whether it is still good. No store command is sent per request.
package bearer

import (
	"errors"
	"net/http"
	"time"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// TokenValidator validates access tokens.
type TokenValidator interface {
	Validate(raw string) (*accesstoken.Claims, error)
}

// RevocationChecker tells whether a valid token was revoked: nil if not,
// an error wrapping accesstoken.ErrInvalidToken if it was, any other error
// if it cannot tell (the mirror is stale).
type RevocationChecker interface {
	Check(c *accesstoken.Claims) error
}

// Authenticator checks bearer tokens.
type Authenticator struct {
	Tokens      TokenValidator
	Revocations RevocationChecker
}

// Authenticate returns the claims of r's token or an *oauth.Error carrying
// the RFC 6750 challenge: 401 without an error code when no token was sent,
// 400 invalid_request for a malformed header or more than one Authorization
// header, 401 invalid_token for a token that is invalid or revoked, 503
// when revocation cannot be checked.
func (a *Authenticator) Authenticate(r *http.Request) (*accesstoken.Claims, error) {
	raw, err := accesstoken.BearerToken(r.Header)
	switch {
	case errors.Is(err, accesstoken.ErrNoToken):
		return nil, oauth.BearerChallenge("", "")
	case errors.Is(err, accesstoken.ErrRepeatedAuthorization):
		// As the resourceserver middleware refuses it.
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, err.Error())
	case err != nil:
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "malformed authorization header")
	}
	return a.Check(raw)
}

// Outcome labels a failed bearer authentication for metrics: the OAuth
// error code, or "missing_token" for a request without credentials.
func Outcome(err error) string {
	if code := oauth.As(err).Code; code != "" {
		return code
	}
	return "missing_token"
}

// Check validates raw and checks it against the revocation state.
func (a *Authenticator) Check(raw string) (*accesstoken.Claims, error) {
	claims, err := a.Tokens.Validate(raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, accesstoken.Reason(err))
	case err != nil:
		return nil, oauth.ServerError(err)
	}
	err = a.Revocations.Check(claims)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, accesstoken.Reason(err))
	case err != nil:
		// The token may well be valid: say so by not challenging it.
		return nil, oauth.Unavailable("revocation state unavailable; retry later", time.Second, err)
	}
	return claims, nil
}
