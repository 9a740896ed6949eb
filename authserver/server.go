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

// Package authserver assembles the token server: the OAuth 2.0 endpoints on
// one listener, metrics and probes on another, over a store and a key source.
package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/clientip"
	"github.com/authstack/authstack/authserver/discovery"
	"github.com/authstack/authstack/authserver/introspect"
	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/revoke"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/authserver/token"
	"github.com/authstack/authstack/authserver/tokenreview"
	"github.com/authstack/authstack/authserver/userinfo"
	"github.com/authstack/authstack/authserver/verify"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Config is everything the token server needs.
type Config struct {
	// Issuer is the iss of every token and the base of the endpoint URLs:
	// an https URL without query or fragment (RFC 8414 §2). With a path
	// (https://example.com/auth), every endpoint is served under it, and
	// the metadata where RFC 8414 §3 and OpenID Connect Discovery §4 put
	// them for such an issuer.
	Issuer string
	// AllowHTTPIssuer accepts an http:// issuer, for development and tests.
	AllowHTTPIssuer bool
	// Store holds users, clients, sessions, throttle counters and the
	// revocation log (Redis in production). Required.
	Store store.Store
	// Keys provides the signing and verification keys (a directory
	// watcher in production). Required. One that implements
	// resourceserver.KeyRefetcher is asked to refetch when a token names a
	// key it does not hold.
	Keys signer.Source
	// DefaultAudience is the aud of tokens for clients that list none; the
	// issuer when empty.
	DefaultAudience []string
	// AccessTokenTTL is the lifetime of access tokens for clients that set
	// none; 15 minutes when zero.
	AccessTokenTTL time.Duration
	// PublicClientID names the default public client used by requests that
	// name no client; empty disables them.
	PublicClientID string
	// TrustedProxies are the addresses or CIDR ranges whose
	// X-Forwarded-For is believed when finding a client's address.
	TrustedProxies []string
	// PerUserIP and PerIP bound failed logins per (username, address) and
	// per address in a window (Max 0: off).
	PerUserIP throttle.Limit
	PerIP     throttle.Limit
	// KnownFor is how long a username (or client) that succeeded from an
	// address is exempt from that address's per-IP limit, staying subject
	// to its own per-(username, address) one; 0: nobody is.
	KnownFor time.Duration
	// UserRate bounds each username's successful logins, ClientRate each
	// confidential client's token requests (Max 0: off).
	UserRate, ClientRate throttle.Limit
	// HashParams are the argon2id parameters of the server's own hashes
	// (the decoy, the cost cap's reference); password.DefaultParams when
	// zero.
	HashParams password.Params
	// HashCostFactor treats a stored hash costing more than this many times
	// one made with HashParams (or with more argon2id lanes) as invalid: it
	// fails as a wrong password, at the decoy's cost. 0: only the absolute
	// bounds apply.
	HashCostFactor uint
	// HashPool bounds the password verifications that run at once and
	// wait for a slot (password.PoolOptions' defaults when zero).
	HashPool password.PoolOptions
	// ClockSkew is the leeway when validating exp, nbf and iat.
	ClockSkew time.Duration
	// TokenCache bounds the verified-token cache of each bearer endpoint
	// (/verify, /userinfo, /tokenreview): its zero value is the defaults
	// of resourceserver.TokenCacheOptions; Disabled verifies every token
	// on every request.
	TokenCache resourceserver.TokenCacheOptions
	// RefreshTokenTTL is the lifetime of refresh tokens for clients that
	// set none; token.DefaultRefreshTokenTTL when zero.
	RefreshTokenTTL time.Duration
	// MaxAccessTokenTTL and MaxRefreshTokenTTL cap the lifetimes a client
	// registration may ask for (accesstoken.MaxTTL and
	// token.DefaultMaxRefreshTokenTTL when zero).
	MaxAccessTokenTTL, MaxRefreshTokenTTL time.Duration
	// MaxSessionLifetime bounds a session after its login, whatever its
	// refreshes (token.DefaultMaxSessionLifetime when zero); clients may
	// set a shorter one.
	MaxSessionLifetime time.Duration
	// MaxSessionsPerUser bounds a user's live sessions
	// (token.DefaultMaxSessionsPerUser when zero, none when negative): a new
	// one ends the oldest.
	MaxSessionsPerUser int
	// SessionRefreshes bounds the refreshes of one session per window
	// (DefaultSessionRefreshes when zero; Max 0 with a window is no limit).
	SessionRefreshes throttle.Limit
	// MaxStaleness bounds how old the revocation mirror's knowledge may be
	// before validation answers 503; mirror.DefaultMaxStaleness when 0.
	MaxStaleness time.Duration
	// RevocationWait is how long the mirror blocks waiting for a change
	// before it confirms it is up to date; mirror.DefaultWait when 0.
	RevocationWait time.Duration
	// VerifyAudiences are the audiences /verify accepts when the gateway
	// names none; DefaultAudience when empty.
	VerifyAudiences []string
	// ServiceAccounts, when set, verifies the Kubernetes ServiceAccount
	// tokens that authenticate AuthClients naming a ServiceAccount; without
	// it such clients are refused.
	ServiceAccounts clientauth.ServiceAccountVerifier
	// TokenReviewAudiences, when set, serve the Kubernetes TokenReview
	// webhook at /tokenreview, for tokens whose aud holds one of them.
	TokenReviewAudiences []string
	// TokenReviewPrefix starts every username and group /tokenreview
	// answers; required with TokenReviewAudiences (tokenreview.CheckPrefix).
	TokenReviewPrefix string
	// DrainDelay is how long /readyz reports unready after shutdown begins
	// and before the listeners close, so load balancers stop routing first.
	DrainDelay time.Duration
	// ThrottleStateEvery is how often the users whose logins a limit
	// refused are written to the store, for their AuthUser's status
	// (throttle.DefaultRecorderEvery when zero); a replica keeps at most
	// throttle.DefaultRecorderUsers of them meanwhile.
	ThrottleStateEvery time.Duration
	// LogSummaryEvery is how often the refusal lines left out of the log,
	// and the refusals left out of the audit trail, during a flood are
	// summarised; logsample.DefaultEvery when zero.
	LogSummaryEvery time.Duration
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// Audit receives the login audit trail (authserver/audit): every
	// login, refresh, revocation and refusal of /token and /revoke; nil
	// records none.
	Audit *audit.Logger
	// Metrics are the collectors the server updates; a new set when nil.
	Metrics *metrics.Metrics
	// Clock is the server's clock; the real clock when nil.
	Clock clock.PassiveClock
}

func (c *Config) defaults() error {
	if c.Issuer == "" {
		return errors.New("issuer is required")
	}
	iss, err := CanonicalIssuer(c.Issuer, c.AllowHTTPIssuer)
	if err != nil {
		return err
	}
	c.Issuer = iss
	if err := errors.Join(c.PerUserIP.Validate(), c.PerIP.Validate(), c.UserRate.Validate(), c.ClientRate.Validate()); err != nil {
		return err
	}
	if c.Store == nil || c.Keys == nil {
		return errors.New("store and keys are required")
	}
	if len(c.DefaultAudience) == 0 {
		c.DefaultAudience = []string{c.Issuer}
	}
	// Tokens must fit the validators' limit (accesstoken's budgets).
	if len(c.Issuer) > accesstoken.MaxIssuerBytes {
		return fmt.Errorf("issuer longer than %d bytes", accesstoken.MaxIssuerBytes)
	}
	if n := accesstoken.ClientClaimBytes(strings.Repeat("x", v1alpha1.MaxNameLength), c.DefaultAudience); n > accesstoken.MaxClientClaimBytes {
		return fmt.Errorf("the default audiences take %d bytes in a token, more than %d", n, accesstoken.MaxClientClaimBytes)
	}
	if c.AccessTokenTTL <= 0 {
		c.AccessTokenTTL = 15 * time.Minute
	}
	if c.RefreshTokenTTL <= 0 {
		c.RefreshTokenTTL = token.DefaultRefreshTokenTTL
	}
	if c.MaxSessionsPerUser == 0 {
		c.MaxSessionsPerUser = token.DefaultMaxSessionsPerUser
	}
	if c.SessionRefreshes == (throttle.Limit{}) {
		c.SessionRefreshes = DefaultSessionRefreshes
	}
	if err := c.SessionRefreshes.Validate(); err != nil {
		return err
	}
	if c.MaxAccessTokenTTL > accesstoken.MaxTTL {
		return fmt.Errorf("the longest access-token lifetime is %v (revocations are remembered that long)", accesstoken.MaxTTL)
	}
	if len(c.VerifyAudiences) == 0 {
		c.VerifyAudiences = c.DefaultAudience
	}
	if len(c.TokenReviewAudiences) > 0 {
		if err := tokenreview.CheckPrefix(c.TokenReviewPrefix); err != nil {
			return err
		}
		// Kubernetes must take only tokens minted for it: the issuer and
		// the default audience are every client's that lists none.
		for _, a := range c.TokenReviewAudiences {
			if a == "" || a == c.Issuer || slices.Contains(c.DefaultAudience, a) {
				return fmt.Errorf("TokenReview audience %q: it must be one only the Kubernetes AuthClient lists, not empty, "+
					"the issuer or a default audience (docs/kubernetes.md)", a)
			}
		}
	}
	if c.HashParams == (password.Params{}) {
		c.HashParams = password.DefaultParams
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New()
	}
	c.Clock = clocks.Or(c.Clock)
	if c.LogSummaryEvery <= 0 {
		c.LogSummaryEvery = logsample.DefaultEvery
	}
	return nil
}

// DefaultSessionRefreshes bounds the refreshes of one session: 30 a minute,
// far more than a client needs (one per access-token lifetime) and far
// fewer than a loop would make.
var DefaultSessionRefreshes = throttle.Limit{Max: 30, Window: time.Minute}

// CanonicalIssuer checks an issuer URL and returns it as
// scheme://host[:port][/path]. RFC 8414 §2: https, no query, no fragment. A
// path is allowed (https://example.com/auth): the server then serves every
// endpoint under it. The result is the exact iss of every token, so it is
// rebuilt rather than trimmed: a trailing "?" or "#", a mixed case scheme or
// host, or user info cannot slip into it; a trailing "/" is dropped (RFC
// 8414 §3 removes it before the well-known suffix too), and the path must be
// clean: no empty, "." or ".." segment and no escape, so that one issuer has
// one spelling.
func CanonicalIssuer(raw string, allowHTTP bool) (string, error) {
	bad := func() (string, error) {
		return "", fmt.Errorf("issuer %q must be a URL with a host, an optional clean path, and no query or fragment", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || strings.ContainsAny(raw, "?#%") {
		return bad()
	}
	p := strings.TrimSuffix(u.Path, "/")
	if p == "/" || p != "" && (path.Clean(p) != p || !strings.HasPrefix(p, "/") || strings.ContainsFunc(p, notPathChar)) {
		return bad()
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && (scheme != "http" || !allowHTTP) {
		return "", fmt.Errorf("issuer %q must use https (RFC 8414 §2)", raw)
	}
	return scheme + "://" + strings.ToLower(u.Host) + p, nil
}

// notPathChar reports whether r may not appear in an issuer's path: only
// RFC 3986 unreserved characters and "/" may, so that the path needs no
// escaping anywhere it is written (URLs, ServeMux patterns, YAML).
func notPathChar(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-._~/", r)
}

// issuerPath is the path of a canonical issuer: "" or "/auth".
func issuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return u.Path
}

// Server is a configured token server.
type Server struct {
	cfg     Config
	api     http.Handler
	Metrics *metrics.Metrics
	// draining is set when shutdown begins: /readyz fails from then on.
	draining atomic.Bool
	mirror   *mirror.Mirror
	sample   *logsample.Sampler
	routes   *routeTable
	started  atomic.Bool
	// flushing counts the background work that writes once more when it
	// is stopped (the audit summaries, the throttled users): Run waits
	// for it before it returns, when Run started it.
	flushing sync.WaitGroup

	// throttled keeps the users throttled, for the store.
	throttled *throttle.Recorder
}

// Start runs the background work (the revocation mirror, the summaries of
// log lines and audit events left out, the flushes of throttled users)
// until ctx ends.
// Run calls it; tests that serve the handler directly call it themselves.
// Calls after the first do nothing.
func (s *Server) Start(ctx context.Context) { s.start(ctx) }

// start is Start, and says whether this call started the work.
func (s *Server) start(ctx context.Context) bool {
	if s.started.Swap(true) {
		return false
	}
	go func() { _ = s.mirror.Run(ctx) }()
	go s.sample.Run(ctx, s.cfg.Logger, s.cfg.LogSummaryEvery)
	s.flushing.Go(func() { s.cfg.Audit.Run(ctx, s.cfg.LogSummaryEvery) })
	s.flushing.Go(func() { s.throttled.Run(ctx) })
	return true
}

// Mirror returns the server's revocation mirror.
func (s *Server) Mirror() *mirror.Mirror { return s.mirror }

// New builds the server from cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	warnKubernetesAlg(cfg.Keys, cfg.Logger)
	ips, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	verifier, err := password.NewVerifier(password.Policy{Params: cfg.HashParams, CostFactor: cfg.HashCostFactor})
	if err != nil {
		return nil, err
	}
	issuer := &accesstoken.Issuer{Keys: cfg.Keys, Issuer: cfg.Issuer, Clock: cfg.Clock}
	mirror := mirror.New(mirror.Options{
		Feed: cfg.Store, MaxStaleness: cfg.MaxStaleness, Wait: cfg.RevocationWait, Leeway: cfg.ClockSkew, Clock: cfg.Clock, Log: cfg.Logger,
		Propagation: cfg.Metrics.ObservePropagation,
	})
	// /userinfo is a resource of this server: it takes only tokens whose aud
	// names the issuer (RFC 9068 §4), not every token the server signs. The
	// default audience is the issuer unless configured otherwise; a client
	// whose tokens should reach /userinfo lists the issuer among its
	// audiences.
	validator := &accesstoken.Validator{
		Keys: cfg.Keys, Issuer: cfg.Issuer, Audiences: []string{cfg.Issuer},
		Leeway: cfg.ClockSkew, Clock: cfg.Clock,
	}
	// /verify, /introspect and /revoke judge tokens of every audience.
	anyAudience := &accesstoken.Validator{Keys: cfg.Keys, Issuer: cfg.Issuer, Leeway: cfg.ClockSkew, Clock: cfg.Clock}
	// The bearer endpoints authenticate as resource servers do. A key
	// source that can refetch (resourceserver.KeyRefetcher) is asked to
	// when a token names a key it does not hold. Each has a cache of the
	// tokens it verified, whose figures are metrics by endpoint.
	bearerAuth := func(endpoint string, v *accesstoken.Validator) *resourceserver.Authenticator {
		cache := resourceserver.NewTokenCache(cfg.TokenCache)
		cfg.Metrics.RegisterTokenCache(endpoint, cache)
		return &resourceserver.Authenticator{Validator: v, Revocation: mirror, Log: cfg.Logger, Cache: cache}
	}
	pool := password.NewPool(cfg.HashPool)
	limiter := func(namespace string) *throttle.Limiter {
		return &throttle.Limiter{
			Counters: cfg.Store, PerUserIP: cfg.PerUserIP, PerIP: cfg.PerIP, Namespace: namespace,
			Hold: attemptHold(pool), Wait: throttle.InFlightRetry, KnownFor: cfg.KnownFor, Clock: cfg.Clock,
		}
	}
	sessions := &session.Revoker{Store: cfg.Store, Noter: mirror, Leeway: anyAudience.Skew(), Clock: cfg.Clock}
	minter := &token.Minter{
		Tokens: issuer, IDTokens: &token.IDTokenIssuer{Keys: cfg.Keys, Issuer: cfg.Issuer}, Store: cfg.Store, DefaultAudience: cfg.DefaultAudience,
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		MaxAccessTokenTTL: cfg.MaxAccessTokenTTL, MaxRefreshTokenTTL: cfg.MaxRefreshTokenTTL,
		MaxSessionLifetime: cfg.MaxSessionLifetime, MaxSessionsPerUser: max(cfg.MaxSessionsPerUser, 0), Revoker: sessions, Audit: cfg.Audit,
		Clock: cfg.Clock,
	}
	throttled := &throttle.Recorder{Store: cfg.Store, Every: cfg.ThrottleStateEvery, Clock: cfg.Clock, Log: cfg.Logger}
	cfg.Metrics.RegisterThrottleState(throttled)
	grants := map[string]token.Grant{
		token.GrantPassword: &token.PasswordGrant{
			Logins:   cfg.Store,
			Verifier: verifier,
			Pool:     pool,
			Limiter:  limiter(""),
			Rate:     &throttle.RateLimit{Counters: cfg.Store, Limit: cfg.UserRate, Scope: throttle.ScopeUserRate, Clock: cfg.Clock},
			Minter:   minter, Throttled: throttled, States: mirror, Metrics: cfg.Metrics, Clock: cfg.Clock,
		},
		token.GrantRefreshToken: &token.RefreshGrant{Store: cfg.Store, Minter: minter, Revoker: sessions, States: mirror,
			Limit: cfg.SessionRefreshes, Metrics: cfg.Metrics, Log: cfg.Logger, Audit: cfg.Audit, Clock: cfg.Clock},
		token.GrantClientCredentials: &token.ClientCredentialsGrant{Minter: minter, States: mirror, Clock: cfg.Clock},
	}
	// One sampler for every endpoint's refusals, by the server's clock.
	sample := logsample.New(logsample.DefaultBurst, logsample.DefaultRate, cfg.Clock)
	s := &Server{cfg: cfg, Metrics: cfg.Metrics, mirror: mirror, sample: sample, throttled: throttled}
	clients := &clientauth.Authenticator{
		Clients: cfg.Store, DefaultClient: s.defaultClient(),
		Limiter: limiter("client:"), Metrics: cfg.Metrics,
		Assertions: cfg.Store, ServiceAccounts: cfg.ServiceAccounts,
		Leeway: anyAudience.Skew(), Clock: cfg.Clock,
	}

	verifyHandler := &verify.Handler{
		Auth:      bearerAuth("verify", anyAudience),
		Audiences: cfg.VerifyAudiences, Validations: cfg.Metrics.Validations("verify"), Log: cfg.Logger, Sample: sample,
		At: issuerPath(cfg.Issuer) + verify.Path,
	}
	disc := &discovery.Handler{} // configured below, from the routes
	routes := []route{
		{path: "/token", member: discovery.TokenEndpoint, handler: &token.Handler{
			Clients: clients, Grants: grants, Keys: cfg.Keys, IPs: ips, Metrics: cfg.Metrics, Log: cfg.Logger,
			ClientRate: &throttle.RateLimit{Counters: cfg.Store, Limit: cfg.ClientRate, Scope: throttle.ScopeClientRate, Clock: cfg.Clock},
			Sample:     sample, Audit: cfg.Audit,
		}},
		{path: "/revoke", member: discovery.RevocationEndpoint, handler: &revoke.Handler{
			Clients: clients, IPs: ips, Tokens: anyAudience, Store: cfg.Store, Sessions: sessions, Noter: mirror,
			Log: cfg.Logger, Sample: sample, Audit: cfg.Audit,
		}},
		{path: "/introspect", member: discovery.IntrospectionEndpoint, handler: &introspect.Handler{
			Clients: clients, IPs: ips, Tokens: anyAudience, Revocations: mirror, Refresh: cfg.Store,
			Log: cfg.Logger, Sample: sample, Clock: cfg.Clock,
		}},
		{path: verify.Path, handler: verifyHandler},
		// Envoy ext_authz: path_prefix + the client's path.
		{path: verify.Path + "/", handler: verifyHandler},
		{path: "/userinfo", member: discovery.UserinfoEndpoint, handler: &userinfo.Handler{
			Auth: bearerAuth("userinfo", validator), Validations: cfg.Metrics.Validations("userinfo"), Log: cfg.Logger, Sample: sample,
		}},
		{method: http.MethodGet, path: "/.well-known/oauth-authorization-server", suffixed: true, handler: http.HandlerFunc(disc.ServeOAuth)},
		{method: http.MethodGet, path: "/.well-known/openid-configuration", handler: http.HandlerFunc(disc.ServeOpenID)},
		{method: http.MethodGet, path: "/.well-known/jwks.json", member: discovery.JWKSURI, handler: http.HandlerFunc(s.serveJWKS)},
	}
	if len(cfg.TokenReviewAudiences) > 0 {
		routes = append(routes, route{path: tokenreview.Path, handler: &tokenreview.Handler{
			Auth: bearerAuth("tokenreview", &accesstoken.Validator{
				Keys: cfg.Keys, Issuer: cfg.Issuer, Audiences: cfg.TokenReviewAudiences, Leeway: cfg.ClockSkew, Clock: cfg.Clock,
			}),
			Prefix: cfg.TokenReviewPrefix, Validations: cfg.Metrics.Validations("tokenreview"), Log: cfg.Logger, Sample: sample,
		}})
	}
	routes = append(routes, s.probes()...)
	clients.Audiences = assertionAudiences(cfg.Issuer, routes)
	*disc = *discovery.New(discovery.Options{
		Issuer: cfg.Issuer, GrantTypes: []string{token.GrantPassword, token.GrantRefreshToken, token.GrantClientCredentials},
		Endpoints: advertised(routes), Keys: cfg.Keys,
	})
	s.routes = newRouteTable(routes, issuerPath(cfg.Issuer), cfg.Metrics)
	cfg.Metrics.RegisterMirror(mirror)
	s.api = s.instrument(s.routes.mux())
	return s, nil
}

// assertionAudiences are the aud values of a client assertion that name
// this server: the issuer (RFC 7523 §3 allows it as well as the token
// endpoint, and OpenID Connect Core §9 the token endpoint's URL) and the
// URL of every endpoint that authenticates clients, as discovery
// advertises them, the issuer's path included. One assertion is good at
// any of them, once.
func assertionAudiences(issuer string, routes []route) []string {
	aud := []string{issuer}
	for _, rt := range routes {
		switch rt.member {
		case discovery.TokenEndpoint, discovery.RevocationEndpoint, discovery.IntrospectionEndpoint:
			aud = append(aud, issuer+rt.path)
		}
	}
	return aud
}

// kubernetesAlgs are the JWS algorithms of authstack's keys that
// kube-apiserver's JWT authenticator verifies (its supported list is RS*,
// ES* and PS*; not EdDSA).
var kubernetesAlgs = []string{signer.AlgES256, signer.AlgES384, signer.AlgRS256}

// warnKubernetesAlg warns at start when the active signing key's algorithm
// is one kube-apiserver cannot verify: tokens it signs would be refused by
// a structured JWT authenticator, whatever else is right. The TokenReview
// webhook verifies them itself, and other validators take them, so this is
// a warning rather than a refusal.
func warnKubernetesAlg(keys signer.Source, log *slog.Logger) {
	ks := keys.Current()
	if ks == nil || ks.Active == nil || slices.Contains(kubernetesAlgs, ks.Active.Alg) {
		return
	}
	log.Warn("The signing key's algorithm cannot be verified by kube-apiserver's JWT authenticator (--authentication-config); "+
		"if Kubernetes validates these tokens, sign with ES256 (or RS256), or use the TokenReview webhook",
		"alg", ks.Active.Alg, "kid", ks.Active.ID, "verifiable", kubernetesAlgs)
}

// attemptHold is how long a throttle reservation counts if its replica dies
// mid-attempt: longer than the longest attempt, which waits at most the
// pool's MaxWait for a slot, hashes (under a second at the parameter
// bounds), is held to the failure floor and calls the store; the rest is
// margin. A shorter hold could lapse while its hash still runs and let one
// more guess in.
func attemptHold(p *password.Pool) time.Duration {
	return p.MaxWait() + password.MaxFailureFloor + 5*time.Second
}

// defaultClient is the built-in public client used when the store holds no
// client of that ID.
func (s *Server) defaultClient() store.Client {
	if s.cfg.PublicClientID == "" {
		return store.Client{}
	}
	return store.Client{
		ID:         v1alpha1.CanonicalName(s.cfg.PublicClientID),
		GrantTypes: []string{token.GrantPassword, token.GrantRefreshToken},
		Source:     "built-in default public client",
	}
}

// Handler returns the API handler (OAuth endpoints and probes).
func (s *Server) Handler() http.Handler { return s.api }

// OpsHandler returns the handler for the operations listener: /metrics and
// the probes.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	for _, rt := range s.probes() {
		mux.Handle(rt.pattern(""), rt.handler)
	}
	return mux
}

// serveJWKS serves the public keys; never a private member.
func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	ks := s.cfg.Keys.Current()
	if ks == nil { // a Source without keys yet: /readyz fails too
		http.Error(w, "signing keys not loaded", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short, so that a key published ahead of a rotation is seen in time.
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(ks.JWKS())
}

// probes are the routes of the liveness and readiness probes, served on
// both listeners.
func (s *Server) probes() []route {
	return []route{
		{method: http.MethodGet, path: "/healthz", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("ok\n"))
		}), quiet: true},
		{method: http.MethodGet, path: "/readyz", handler: http.HandlerFunc(s.serveReady), quiet: true},
	}
}

// serveReady is ready when the store answers and a signing key is loaded;
// otherwise it says which is missing.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if !s.mirror.Fresh() {
		http.Error(w, "revocation state stale", http.StatusServiceUnavailable)
		return
	}
	if err := noSigningKey(s.cfg.Keys); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// noSigningKey returns why keys holds no signing key, or nil when it
// holds one. A source that waits for its keys (signer.Watcher) says why;
// the reason names no key material.
func noSigningKey(keys signer.Source) error {
	if ks := keys.Current(); ks != nil && ks.Active != nil {
		return nil
	}
	if w, ok := keys.(interface{ Waiting() error }); ok {
		if err := w.Waiting(); err != nil {
			return err
		}
	}
	return errors.New("no signing key")
}
