package resourceserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

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
// [accesstoken.ErrInvalidToken] if it is, whose message is
// "invalid token: <reason>" with a reason safe to show to the client
// (answered 401 invalid_token); and any other error if it cannot tell,
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
	// RetryAfter is the Retry-After of 503 answers (DefaultRetryAfter when
	// zero).
	RetryAfter time.Duration
	// Now returns the current time for token validation; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives refused requests (503s and 500s at warning and error
	// level, 401s at debug level), never a token; nil means slog.Default().
	Logger *slog.Logger
}

// Middleware authenticates requests to a resource server with authstack
// access tokens (RFC 6750 bearer tokens in the JWT profile of RFC 9068).
// It is safe for concurrent use.
type Middleware struct {
	validator  accesstoken.Validator
	keys       signer.Source
	refetcher  KeyRefetcher
	owned      *RemoteKeys
	scopes     []string
	revocation RevocationChecker
	retryAfter time.Duration
	maxBytes   int
	log        *slog.Logger
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
	m := &Middleware{
		keys: o.Keys, scopes: slices.Clone(o.RequiredScopes), revocation: o.Revocation,
		retryAfter: o.RetryAfter, log: o.Logger, maxBytes: o.MaxTokenBytes,
	}
	if m.retryAfter <= 0 {
		m.retryAfter = DefaultRetryAfter
	}
	if m.maxBytes <= 0 {
		m.maxBytes = accesstoken.DefaultMaxTokenBytes
	}
	if m.log == nil {
		m.log = slog.Default()
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
			ro.Logger = m.log
		}
		rk, err := NewRemoteKeys(ro)
		if err != nil {
			return nil, fmt.Errorf("resource server: %w", err)
		}
		m.keys, m.owned = rk, rk
	}
	m.refetcher, _ = m.keys.(KeyRefetcher)
	m.validator = accesstoken.Validator{
		Keys: m.keys, Issuer: o.Issuer, Audiences: slices.Clone(o.Audiences),
		Leeway: o.Leeway, Now: o.Now, MaxTokenBytes: m.maxBytes,
	}
	return m, nil
}

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
// *oauth.Error to render with oauth.WriteError:
//
//   - no Authorization header with the Bearer scheme: 401 with a bare
//     challenge (RFC 6750 §3.1); tokens in the query string or a form body
//     (RFC 6750 §2.2, §2.3) are not looked at;
//   - a malformed Bearer header, or more than one Authorization header:
//     400 invalid_request;
//   - a token that is invalid, expired, not for these audiences or
//     revoked: 401 invalid_token;
//   - no keys loaded yet, or a revocation checker that cannot tell: 503
//     with Retry-After.
//
// A token naming a key the set does not hold makes a KeyRefetcher fetch
// the keys again (rate limited) and is then validated once more.
// Authenticate does not check scopes.
func (m *Middleware) Authenticate(r *http.Request) (*accesstoken.Claims, error) {
	raw, err := accesstoken.BearerToken(r.Header)
	switch {
	case errors.Is(err, accesstoken.ErrNoToken):
		return nil, oauth.BearerChallenge("", "")
	case errors.Is(err, accesstoken.ErrRepeatedAuthorization):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, err.Error())
	case err != nil:
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "malformed authorization header")
	}
	if m.keys.Current() == nil {
		return nil, oauth.Unavailable("signing keys not loaded yet", m.retryAfter, ErrKeysUnavailable)
	}
	claims, err := m.validate(r.Context(), raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, reason(err, "invalid token")).WithCause(err)
	case err != nil:
		return nil, oauth.ServerError(err)
	}
	if m.revocation != nil {
		switch err := m.revocation.Check(claims); {
		case errors.Is(err, accesstoken.ErrInvalidToken):
			return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, reason(err, "token revoked")).WithCause(err)
		case err != nil:
			return nil, oauth.Unavailable("revocation state unavailable", m.retryAfter, err)
		}
	}
	return claims, nil
}

// validate validates raw and, if it names a key the current set does not
// hold, asks the key source to fetch the keys again and validates once
// more if the key has appeared.
func (m *Middleware) validate(ctx context.Context, raw string) (*accesstoken.Claims, error) {
	claims, err := m.validator.Validate(raw)
	if err == nil || m.refetcher == nil || !errors.Is(err, accesstoken.ErrInvalidToken) || len(raw) > m.maxBytes {
		return claims, err
	}
	kid := unverifiedKID(raw)
	if kid == "" {
		return nil, err
	}
	if ks := m.keys.Current(); ks != nil {
		if _, ok := ks.Lookup(kid); ok {
			return nil, err // a known key: the token is bad for another reason
		}
	}
	if ferr := m.refetcher.Refetch(ctx); ferr != nil && !errors.Is(ferr, ErrRefetchLimited) {
		m.log.Warn("Refetching signing keys for an unknown kid failed", "kid", clip(kid), "error", ferr)
	}
	if ks := m.keys.Current(); ks != nil {
		if _, ok := ks.Lookup(kid); ok {
			return m.validator.Validate(raw)
		}
	}
	return nil, err
}

// unverifiedKID returns the "kid" of a JWS header without verifying
// anything, or "" if it has none or the header cannot be read.
func unverifiedKID(raw string) string {
	const maxHeader = 1024
	i := strings.IndexByte(raw, '.')
	if i <= 0 || i > maxHeader {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[:i])
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Kid
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

// reason returns the short explanation of an ErrInvalidToken error: the
// reason of one made by accesstoken (accesstoken.Invalid), or the text
// after "invalid token: " of one made by wrapping ErrInvalidToken that
// way; fallback for an error of any other form, whose text might not be
// meant for clients.
func reason(err error, fallback string) string {
	generic := accesstoken.ErrInvalidToken.Error()
	if r := accesstoken.Reason(err); r != generic && r != "" {
		return r
	}
	if r, ok := strings.CutPrefix(err.Error(), generic+": "); ok && r != "" && len(r) <= 100 {
		return r
	}
	return fallback
}

// writeError renders err and logs what the client is not told.
func (m *Middleware) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := oauth.As(err)
	switch {
	case e.Status >= 500 && e.Status != http.StatusServiceUnavailable:
		m.log.ErrorContext(r.Context(), "Request refused: internal error", "path", r.URL.Path, "error", e.Cause)
	case e.Status == http.StatusServiceUnavailable:
		m.log.WarnContext(r.Context(), "Request refused: cannot validate tokens now", "path", r.URL.Path, "error", e.Cause)
	case e.Code == oauth.CodeInvalidToken:
		m.log.DebugContext(r.Context(), "Request refused: invalid token", "path", r.URL.Path, "reason", e.Description)
	}
	oauth.WriteError(w, e)
}
