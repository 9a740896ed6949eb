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
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// DefaultRetryAfter is the Retry-After of 503 answers when Options leave
// it zero.
const DefaultRetryAfter = 5 * time.Second

// ErrKeysUnavailable is the cause of the 503 answered while no key set has
// been loaded.
var ErrKeysUnavailable = errors.New("signing keys not loaded")

// RevocationChecker tells whether a validated token has been revoked.
//
// Check returns nil if the token is not revoked; an error wrapping
// [accesstoken.ErrInvalidToken] if it is (answered 401 invalid_token, with
// the reason of an error made by [accesstoken.Invalid], which must be safe
// to show to the client, or "token revoked" for any other: its text is
// never shown); and any other error if it cannot tell,
// for example because its copy of the revocation state is stale (answered
// 503: the request is refused, never let through). Check is called once
// per authenticated request, concurrently, and must be fast.
type RevocationChecker interface {
	Check(c *accesstoken.Claims) error
}

// KeyRefetcher is a key source that can fetch its keys again when a token
// names a key it does not hold, such as [*RemoteKeys]. Refetch may refuse
// (rate limit) or fail; the caller then looks the key up again anyway.
type KeyRefetcher interface {
	signer.Source
	Refetch(ctx context.Context) error
}

// Options configure a [Middleware].
type Options struct {
	// Issuer is the required "iss" of tokens: the authorization server's
	// issuer identifier. Required.
	Issuer string
	// Audiences are the identifiers of this resource server: a token's
	// "aud" must contain one of them (RFC 9068 §4). Required.
	Audiences []string
	// Keys provides the verification keys. When nil, New builds a
	// RemoteKeys from Remote (whose Issuer defaults to Issuer), which Close
	// stops. A Keys that implements KeyRefetcher is asked to refetch when a
	// token names an unknown key.
	Keys signer.Source
	// Remote configures the RemoteKeys built when Keys is nil.
	Remote RemoteKeysOptions
	// RequiredScopes must all be granted to every request the middleware
	// lets through; RequireScopes adds more per route.
	RequiredScopes []string
	// Leeway is the clock skew tolerated on exp and iat, as in
	// accesstoken.Validator (its default when zero, none when negative).
	Leeway time.Duration
	// MaxTokenBytes bounds the token (accesstoken.DefaultMaxTokenBytes
	// when zero).
	MaxTokenBytes int
	// Revocation, when set, is asked about every valid token.
	Revocation RevocationChecker
	// TokenCache bounds the cache of verified tokens (see TokenCache),
	// which is on by default: its zero value is the default bounds;
	// TokenCache.Disabled verifies every token on every request.
	TokenCache TokenCacheOptions
	// RetryAfter is the Retry-After of 503 answers (DefaultRetryAfter when
	// zero).
	RetryAfter time.Duration
	// Clock is the clock of token validation; nil is the real clock.
	Clock clock.PassiveClock
	// Logger receives refused requests (503s and 500s at warning and error
	// level with their cause, 4xx at debug level; see oauth.Responder) and
	// failed key refetches, never a token; nil means slog.Default().
	Logger *slog.Logger
}

// Middleware authenticates requests to a resource server with authstack
// access tokens (RFC 6750 bearer tokens in the JWT profile of RFC 9068).
// It is safe for concurrent use.
type Middleware struct {
	auth   Authenticator
	keys   signer.Source
	owned  *RemoteKeys
	scopes []string
	errors oauth.Responder
}

// New checks o and returns the middleware. When o.Keys is nil it starts a
// RemoteKeys, without waiting for its first fetch: until then requests
// with a token are answered 503 (see Ready and RemoteKeys.WaitReady).
func New(o Options) (*Middleware, error) {
	if o.Issuer == "" {
		return nil, errors.New("resource server: issuer is required")
	}
	if len(o.Audiences) == 0 || slices.Contains(o.Audiences, "") {
		return nil, errors.New("resource server: at least one non-empty audience is required")
	}
	for _, s := range o.RequiredScopes {
		if !oauth.ValidScopeToken(s) {
			return nil, fmt.Errorf("resource server: invalid scope %q", s)
		}
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	m := &Middleware{
		keys: o.Keys, scopes: slices.Clone(o.RequiredScopes),
		errors: oauth.Responder{Log: log, Msg: "Request refused", ClientLevel: slog.LevelDebug},
	}
	if m.keys == nil {
		ro := o.Remote
		if ro.Issuer == "" && ro.JWKSURL == "" {
			ro.Issuer = o.Issuer
		}
		if ro.Issuer != "" && ro.Issuer != o.Issuer {
			return nil, fmt.Errorf("resource server: remote issuer %q is not the issuer %q", ro.Issuer, o.Issuer)
		}
		if ro.Logger == nil {
			ro.Logger = log
		}
		rk, err := NewRemoteKeys(ro)
		if err != nil {
			return nil, fmt.Errorf("resource server: %w", err)
		}
		m.keys, m.owned = rk, rk
	}
	retryAfter := o.RetryAfter
	if retryAfter <= 0 {
		retryAfter = DefaultRetryAfter
	}
	m.auth = Authenticator{
		Validator: &accesstoken.Validator{
			Keys: m.keys, Issuer: o.Issuer, Audiences: slices.Clone(o.Audiences),
			Leeway: o.Leeway, Clock: o.Clock, MaxTokenBytes: o.MaxTokenBytes,
		},
		Revocation: o.Revocation, RetryAfter: retryAfter, Log: log,
		Cache: NewTokenCache(o.TokenCache),
	}
	return m, nil
}

// TokenCacheStats returns the counters and size of the cache of verified
// tokens (zero when Options.TokenCache.Disabled), for a service's metrics.
func (m *Middleware) TokenCacheStats() TokenCacheStats { return m.auth.Cache.Stats() }

// Close stops the RemoteKeys that New started, if any.
func (m *Middleware) Close() {
	if m.owned != nil {
		m.owned.Close()
	}
}

// Ready reports whether verification keys are loaded, for a readiness
// probe.
func (m *Middleware) Ready() bool { return m.keys.Current() != nil }

// Handler returns next protected by the middleware: a request reaches it
// only with a valid token granting Options.RequiredScopes, and its context
// carries the claims (see ClaimsFromContext). Every other request is
// answered with an RFC 6750 error (see Authenticate), and 403
// insufficient_scope when a scope is missing.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return m.require(m.scopes, next)
}

// RequireScopes returns a wrapper that lets a request through only if its
// token grants all of scopes, besides Options.RequiredScopes. Behind
// m.Handler it reuses the claims already validated; used alone it
// authenticates the request itself. It panics on an invalid scope token,
// like a bad route pattern.
func (m *Middleware) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	all := slices.Clone(m.scopes)
	for _, s := range scopes {
		if !oauth.ValidScopeToken(s) {
			panic(fmt.Sprintf("resourceserver: RequireScopes: invalid scope %q", s))
		}
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	return func(next http.Handler) http.Handler { return m.require(all, next) }
}

func (m *Middleware) require(scopes []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := m.fromContext(r.Context())
		if !ok {
			var err error
			if claims, err = m.Authenticate(r); err != nil {
				m.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, &authenticated{m: m, claims: claims}))
		}
		if len(scopes) > 0 && !hasScopes(claims, scopes) {
			m.writeError(w, r, oauth.BearerChallenge(oauth.CodeInsufficientScope,
				"the token does not grant the required scope", scopes...))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authenticate returns the claims of the request's bearer token, or an
// *Error to render with WriteError, as
// [Authenticator.Authenticate] answers; its 503s carry Options.RetryAfter.
// A token naming a key the set does not hold makes a KeyRefetcher fetch
// the keys again (rate limited) and is then validated once more.
// Authenticate does not check scopes.
func (m *Middleware) Authenticate(r *http.Request) (*accesstoken.Claims, error) {
	return m.auth.Authenticate(r)
}

// hasScopes reports whether the token grants every scope of want.
func hasScopes(c *accesstoken.Claims, want []string) bool {
	granted := c.Scopes()
	for _, s := range want {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// writeError renders err and logs what the client is not told (see
// oauth.Responder: 5xx with their cause, 4xx at debug level).
func (m *Middleware) writeError(w http.ResponseWriter, r *http.Request, err error) {
	m.errors.Respond(w, r, err, "", "path", r.URL.Path)
}
