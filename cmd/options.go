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

package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/authserver/token"
	"github.com/authstack/authstack/authserver/tokenreview"
	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// serverOptions are the flags `server` and `dev` share.
type serverOptions struct {
	addr            string
	metricsAddr     string
	issuer          string
	audiences       []string
	accessTokenTTL  time.Duration
	refreshTokenTTL time.Duration
	maxAccessTTL    time.Duration
	maxRefreshTTL   time.Duration
	maxSession      time.Duration
	maxSessions     int
	refreshLimit    throttle.Limit
	maxStaleness    time.Duration
	verifyAudiences []string
	tokenReview     tokenReviewFlags
	publicClientID  string
	trustedProxies  []string
	perUserIP       throttle.Limit
	perIP           throttle.Limit
	knownFor        time.Duration
	throttleState   time.Duration
	userRate        throttle.Limit
	clientRate      throttle.Limit
	argon2          argon2Flags
	hashWorkers     int
	hashQueue       int
	hashQueueWait   time.Duration
	hashPerUser     int
	clockSkew       time.Duration
	tokenCache      resourceserver.TokenCacheOptions
	shutdownGrace   time.Duration
	shutdownDelay   time.Duration
	allowHTTPIssuer bool
	logLevel        string
	auditLog        string
	hashCostFactor  uint
	tls             tlsFlags
}

func (o *serverOptions) addFlags(fs *pflag.FlagSet, defaultAddr, defaultMetrics string, defaultDelay time.Duration) {
	fs.StringVar(&o.addr, "addr", defaultAddr, "address of the OAuth API listener")
	fs.StringVar(&o.metricsAddr, "metrics-addr", defaultMetrics, "address of the /metrics, /healthz and /readyz listener (empty: none)")
	o.tls.addFlags(fs)
	fs.StringVar(&o.issuer, "issuer", o.issuer, "issuer URL: the iss of every token and the base of the metadata URLs")
	fs.StringSliceVar(&o.audiences, "audience", nil, "aud of tokens for clients that list no audiences (default: the issuer)")
	fs.DurationVar(&o.accessTokenTTL, "access-token-ttl", 15*time.Minute, "lifetime of access tokens for clients that set none")
	fs.DurationVar(&o.refreshTokenTTL, "refresh-token-ttl", token.DefaultRefreshTokenTTL, "lifetime of refresh tokens for clients that set none")
	fs.DurationVar(&o.maxAccessTTL, "max-access-token-ttl", accesstoken.MaxTTL, "longest access-token lifetime an AuthClient may ask for (at most 24h)")
	fs.DurationVar(&o.maxRefreshTTL, "max-refresh-token-ttl", token.DefaultMaxRefreshTokenTTL, "longest refresh-token lifetime an AuthClient may ask for")
	fs.DurationVar(&o.maxSession, "max-session-lifetime", token.DefaultMaxSessionLifetime,
		"longest a session (a login and its refreshes) lasts after the login; AuthClients may set shorter")
	fs.IntVar(&o.maxSessions, "max-sessions-per-user", token.DefaultMaxSessionsPerUser,
		"live sessions (refresh tokens) a user may have; a new login ends the one expiring first beyond it (-1: no limit)")
	fs.Int64Var(&o.refreshLimit.Max, "session-refresh-max", authserver.DefaultSessionRefreshes.Max, "refreshes allowed per session in a window (0: no limit)")
	fs.DurationVar(&o.refreshLimit.Window, "session-refresh-window", authserver.DefaultSessionRefreshes.Window, "window of the per-session refresh limit")
	fs.DurationVar(&o.maxStaleness, "revocation-max-staleness", mirror.DefaultMaxStaleness,
		"oldest revocation state validation trusts; beyond it (Redis unreachable) validation answers 503")
	fs.StringSliceVar(&o.verifyAudiences, "verify-audience", nil, "audiences /verify accepts when the gateway names none (default: --audience, or the issuer)")
	o.tokenReview.addFlags(fs)
	fs.StringVar(&o.publicClientID, "public-client-id", "default", "client used by token requests that name no client (empty: such requests are refused)")
	fs.StringSliceVar(&o.trustedProxies, "trusted-proxies", nil, "CIDRs of proxies whose X-Forwarded-For is believed")
	fs.Int64Var(&o.perUserIP.Max, "throttle-user-ip-max", throttle.DefaultPerUserIP.Max, "failed logins allowed per username and client IP in a window (0: off)")
	fs.DurationVar(&o.perUserIP.Window, "throttle-user-ip-window", throttle.DefaultPerUserIP.Window, "window of the per-username-and-IP limit")
	fs.Int64Var(&o.perIP.Max, "throttle-ip-max", throttle.DefaultPerIP.Max, "failed logins allowed per client IP in a window (0: off)")
	fs.DurationVar(&o.perIP.Window, "throttle-ip-window", throttle.DefaultPerIP.Window, "window of the per-IP limit")
	fs.DurationVar(&o.knownFor, "throttle-known-ttl", throttle.DefaultKnownFor,
		"how long a username (or client) that logged in from an address is exempt from that address's per-IP limit, keeping its own (0: never)")
	fs.DurationVar(&o.throttleState, "throttle-state-flush-period", throttle.DefaultRecorderEvery,
		fmt.Sprintf("how often the users a limit refuses are written to the store, for the throttle in their AuthUser's status (each replica keeps at most %d meanwhile)", throttle.DefaultRecorderUsers))
	o.argon2.addFlags(fs, "for new hashes and the unknown-user decoy")
	fs.Int64Var(&o.userRate.Max, "rate-limit-user", throttle.DefaultUserRate.Max,
		"successful logins allowed per username in a --rate-limit-window, from any address (0: off)")
	fs.Int64Var(&o.clientRate.Max, "rate-limit-client", throttle.DefaultClientRate.Max,
		"token requests allowed per confidential client in a --rate-limit-window, successes included (0: off)")
	fs.DurationVar(&o.userRate.Window, "rate-limit-window", throttle.DefaultUserRate.Window, "window of the per-user and per-client rate limits")
	addCostFactorFlag(fs, &o.hashCostFactor)
	fs.IntVar(&o.hashWorkers, "hash-workers", 0, "password verifications run at once (0: GOMAXPROCS, which follows the container CPU limit)")
	fs.IntVar(&o.hashQueue, "hash-queue", 0, "requests that may wait for a hashing slot (default 4 × hash-workers)")
	fs.DurationVar(&o.hashQueueWait, "hash-queue-timeout", 2*time.Second, "longest wait for a hashing slot before 503")
	fs.IntVar(&o.hashPerUser, "hash-per-user", 1,
		"password verifications one username may have running or queued at once; the rest wait their turn without a slot (0: no bound)")
	fs.DurationVar(&o.clockSkew, "clock-skew", 5*time.Second, "leeway when checking exp, nbf and iat")
	fs.IntVar(&o.tokenCache.MaxEntries, "token-cache-entries", resourceserver.DefaultTokenCacheEntries,
		"verified tokens each bearer endpoint (/verify, /userinfo, /tokenreview) remembers, so that a token presented again is not verified again (0: no cache)")
	fs.IntVar(&o.tokenCache.MaxBytes, "token-cache-bytes", resourceserver.DefaultTokenCacheBytes, "bytes each bearer endpoint's token cache may hold")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 15*time.Second, "time in-flight requests get to finish on SIGTERM")
	fs.DurationVar(&o.shutdownDelay, "shutdown-delay", defaultDelay, "time /readyz fails after SIGTERM before the listeners close, so load balancers stop routing first")
	fs.BoolVar(&o.allowHTTPIssuer, "allow-http-issuer", false, "accept an http:// issuer (development only; RFC 8414 requires https)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.auditLog, "audit-log", audit.Stdout,
		"where the login audit trail goes: stdout, stderr, or a file path appended to (the operational log is on stderr)")
}

// openAudit points cfg's audit trail at --audit-log; the caller closes
// what it returns when the server has stopped.
func (o *serverOptions) openAudit(cfg *authserver.Config) (io.Closer, error) {
	w, err := audit.Open(o.auditLog)
	if err != nil {
		return nil, err
	}
	cfg.Audit = audit.New(w, nil)
	return w, nil
}

// tokenReviewFlags are the flags of the Kubernetes TokenReview webhook.
type tokenReviewFlags struct {
	audiences []string
	prefix    string
}

func (t *tokenReviewFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&t.audiences, "tokenreview-audience", nil,
		"serve the Kubernetes TokenReview webhook at /tokenreview for tokens whose aud holds one of these (repeatable; none: not served)")
	fs.StringVar(&t.prefix, "tokenreview-prefix", tokenreview.DefaultPrefix,
		"prefix of every username and group /tokenreview answers, so none is one of Kubernetes' own (not empty, not system:)")
}

// argon2Flags are the --argon2-* flags, which the server and the manager
// share.
type argon2Flags struct {
	memory, time uint32
	threads      uint
}

// addFlags adds the flags; memoryFor says what the hashes are for.
func (a *argon2Flags) addFlags(fs *pflag.FlagSet, memoryFor string) {
	fs.Uint32Var(&a.memory, "argon2-memory", password.DefaultParams.Memory, "argon2id memory in KiB "+memoryFor)
	fs.Uint32Var(&a.time, "argon2-time", password.DefaultParams.Time, "argon2id iterations")
	fs.UintVar(&a.threads, "argon2-threads", uint(password.DefaultParams.Threads), "argon2id parallelism")
}

// params are the argon2id parameters the flags give, with the default salt
// and key lengths.
func (a *argon2Flags) params() password.Params {
	p := password.DefaultParams
	p.Memory, p.Time = a.memory, a.time
	p.Threads = uint8(min(a.threads, 255)) // out-of-range values stay out of range for Validate
	return p
}

// addCostFactorFlag adds --hash-cost-factor, which the server and the
// manager share.
func addCostFactorFlag(fs *pflag.FlagSet, v *uint) {
	fs.UintVar(v, "hash-cost-factor", password.DefaultCostFactor,
		"refuse stored hashes costing more than this many times one made with --argon2-* (or with more argon2id threads); bcrypt is weighed alike (0: only the absolute bounds)")
}

// config fills the parts of an authserver.Config these flags decide.
func (o *serverOptions) config() authserver.Config {
	return authserver.Config{
		Issuer:            o.issuer,
		DefaultAudience:   o.audiences,
		AccessTokenTTL:    o.accessTokenTTL,
		RefreshTokenTTL:   o.refreshTokenTTL,
		MaxAccessTokenTTL: o.maxAccessTTL, MaxRefreshTokenTTL: o.maxRefreshTTL,
		MaxSessionLifetime: o.maxSession, MaxSessionsPerUser: o.maxSessions, SessionRefreshes: o.refreshLimit,
		TokenReviewAudiences: o.tokenReview.audiences, TokenReviewPrefix: o.tokenReview.prefix,
		KnownFor: o.knownFor, ThrottleStateEvery: o.throttleState,
		MaxStaleness:    o.maxStaleness,
		VerifyAudiences: o.verifyAudiences,
		PublicClientID:  o.publicClientID,
		TrustedProxies:  o.trustedProxies,
		PerUserIP:       o.perUserIP,
		PerIP:           o.perIP,
		UserRate:        o.userRate,
		ClientRate:      throttle.Limit{Max: o.clientRate.Max, Window: o.userRate.Window},
		HashParams:      o.argon2.params(),
		HashCostFactor:  o.hashCostFactor,
		HashPool:        password.PoolOptions{Workers: o.hashWorkers, Queue: o.hashQueue, MaxWait: o.hashQueueWait, PerKey: o.hashPerUser},
		ClockSkew:       o.clockSkew,
		TokenCache:      o.tokenCacheOptions(),
		DrainDelay:      o.shutdownDelay,
		AllowHTTPIssuer: o.allowHTTPIssuer,
	}
}

// tokenCacheOptions are the flags' bounds of the token cache;
// --token-cache-entries 0 disables it.
func (o *serverOptions) tokenCacheOptions() resourceserver.TokenCacheOptions {
	c := o.tokenCache
	c.Disabled = c.MaxEntries <= 0
	return c
}

// signalContext ends on the first SIGINT or SIGTERM. A second signal ends
// the process at once, by that signal, instead of waiting out the drain and
// the shutdown grace. The returned stop releases the signals.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	released := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel()
		case <-released:
			return
		}
		select {
		case sig := <-ch:
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case <-released:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(released)
			cancel()
		})
	}
}
