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

package resourceserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Authenticator checks the bearer token of a request: it reads the RFC
// 6750 Authorization header, validates the RFC 9068 access token and asks
// the revocation checker about it. It is the one implementation behind the
// [Middleware] and the token server's own protected endpoints (/verify,
// /userinfo, /tokenreview). Its fields are read-only once in use; it is
// safe for concurrent use.
//
// With a Cache, a token verified once is not verified again until it
// expires (see [TokenCache] for what a hit still checks); the revocation
// checker is asked about every token, cached or not.
type Authenticator struct {
	// Validator validates the tokens. Required. When its key source is a
	// [KeyRefetcher], a token naming a key the source does not hold makes
	// it fetch the keys again (it rate limits itself), and the token is
	// validated once more.
	Validator *accesstoken.Validator
	// Revocation, when set, is asked about every valid token.
	Revocation RevocationChecker
	// RetryAfter is the Retry-After of 503 answers (oauth.StoreRetryAfter,
	// one second, when zero).
	RetryAfter time.Duration
	// Log receives failed refetches of the keys; nil discards.
	Log *slog.Logger
	// Cache, when set, holds the tokens verified (NewTokenCache); nil
	// verifies every token on every request. The claims of a cached token
	// share their slices (Audience, Groups) between the requests that
	// present it: they are read-only.
	Cache *TokenCache

	// onVerify, when set, is called before each signature verification
	// (tests count them).
	onVerify func()
}

// Reasons of invalid_token answers for an error wrapping
// accesstoken.ErrInvalidToken that carries no reason of its own (one not
// made by accesstoken.Invalid): its text is never shown.
const (
	reasonInvalid = "invalid token"
	reasonRevoked = "token revoked"
)

// Authenticate returns the claims of the request's bearer token, or an
// *Error to render with WriteError:
//
//   - no Authorization header with the Bearer scheme: 401 with a bare
//     challenge (RFC 6750 §3.1); tokens in the query string or a form body
//     (RFC 6750 §2.2, §2.3) are not looked at;
//   - a malformed Bearer header, or more than one Authorization header:
//     400 invalid_request;
//   - a token that is invalid, expired, not for the validator's audiences
//     or revoked: 401 invalid_token, with the reason of accesstoken.Reason
//     (or "invalid token", "token revoked" for an error that has none),
//     and the validator's or checker's error as its Cause, for logs and
//     errors.Is;
//   - no keys loaded yet, or a revocation checker that cannot tell: 503
//     with Retry-After;
//   - a misconfigured validator: 500.
//
// Authenticate does not check scopes.
func (a *Authenticator) Authenticate(r *http.Request) (*accesstoken.Claims, error) {
	raw, err := accesstoken.BearerToken(r.Header)
	switch {
	case errors.Is(err, accesstoken.ErrNoToken):
		return nil, oauth.BearerChallenge("", "")
	case errors.Is(err, accesstoken.ErrRepeatedAuthorization):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, err.Error())
	case err != nil:
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "malformed authorization header")
	}
	return a.Check(r.Context(), raw)
}

// Check validates the token raw and asks the revocation checker about it,
// with the answers of Authenticate.
func (a *Authenticator) Check(ctx context.Context, raw string) (*accesstoken.Claims, error) {
	var ks *signer.KeySet
	if keys := a.Validator.Keys; keys != nil {
		if ks = keys.Current(); ks == nil {
			return nil, oauth.KeysUnavailable(ErrKeysUnavailable).WithRetryAfter(a.retryAfter())
		}
	}
	claims, err := a.cachedValidate(ctx, ks, raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, reasonOr(err, reasonInvalid)).WithCause(err)
	case err != nil:
		return nil, oauth.ServerError(err)
	}
	if a.Revocation != nil {
		switch err := a.Revocation.Check(claims); {
		case errors.Is(err, accesstoken.ErrInvalidToken):
			return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, reasonOr(err, reasonRevoked)).WithCause(err)
		case err != nil:
			return nil, oauth.RevocationUnavailable(err).WithRetryAfter(a.retryAfter())
		}
	}
	return claims, nil
}

func (a *Authenticator) retryAfter() time.Duration {
	if a.RetryAfter > 0 {
		return a.RetryAfter
	}
	return oauth.StoreRetryAfter
}

// cachedValidate returns the cache's verdict on raw if it has one, or
// validates raw and stores the verdict. ks is the current key set.
func (a *Authenticator) cachedValidate(ctx context.Context, ks *signer.KeySet, raw string) (*accesstoken.Claims, error) {
	if a.Cache == nil || ks == nil {
		claims, _, err := a.validate(ctx, raw)
		return claims, err
	}
	if hit, claims, err := a.Cache.lookup(a.Validator, ks, raw); hit {
		return claims, err
	}
	claims, key, err := a.validate(ctx, raw)
	a.Cache.store(a.Validator, raw, claims, key, err)
	return claims, err
}

// validate validates raw and, if it names a key the current set does not
// hold and the key source can refetch, asks it to fetch the keys again and
// validates once more if the key has appeared. It returns the key that
// verified the token.
func (a *Authenticator) validate(ctx context.Context, raw string) (*accesstoken.Claims, *signer.Key, error) {
	claims, key, err := a.verify(raw)
	kid, unknown := accesstoken.UnknownKey(err)
	refetcher, ok := a.Validator.Keys.(KeyRefetcher)
	if !unknown || !ok {
		return claims, key, err
	}
	if ferr := refetcher.Refetch(ctx); ferr != nil && !errors.Is(ferr, ErrRefetchLimited) && a.Log != nil {
		a.Log.WarnContext(ctx, "Refetching signing keys for an unknown kid failed", "kid", clip(kid), "error", ferr)
	}
	if ks := refetcher.Current(); ks != nil {
		if _, ok := ks.Lookup(kid); ok {
			return a.verify(raw)
		}
	}
	return nil, nil, err
}

func (a *Authenticator) verify(raw string) (*accesstoken.Claims, *signer.Key, error) {
	if a.onVerify != nil {
		a.onVerify()
	}
	return a.Validator.Verify(raw)
}

// reasonOr returns the reason of an ErrInvalidToken error made by
// accesstoken (Validate or Invalid), or fallback for one of any other
// form, whose text might not be meant for clients.
func reasonOr(err error, fallback string) string {
	if r, ok := accesstoken.ReasonOf(err); ok {
		return r
	}
	return fallback
}
