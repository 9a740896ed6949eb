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

// Package metrics defines the token server's Prometheus metrics, served on
// their own listener.
package metrics

import (
	"net/http"
	"regexp"
	"time"

	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/resourceserver"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// endpointLabel is the label of the metrics kept by endpoint.
const endpointLabel = "endpoint"

// ThrottleLimits are the values of ThrottleRejections' limit label (the
// throttle's scopes). Each series exists from the start, at 0: a rate
// over a series that first appears with its first burst of refusals
// would miss that burst, and the guessing alert with it.
var ThrottleLimits = []string{"user_ip", "ip", "user_rate", "client_rate", "session"}

// passwordOutcomes are the password grant's outcomes whose TokenRequests
// series exist from the start, at 0, for the same reason: the guessing
// alert compares their rates.
var passwordOutcomes = []string{"success", "invalid_grant"}

// Metrics holds the collectors, registered in their own registry so that
// tests and several servers in one process do not collide.
type Metrics struct {
	Registry *prometheus.Registry

	// TokenRequests counts /token requests by grant type and outcome
	// ("success" or the OAuth error code).
	TokenRequests *prometheus.CounterVec
	// TokenDuration observes /token latency by grant type and outcome (as
	// TokenRequests): a refusal's latency apart from a hashed login's.
	TokenDuration *prometheus.HistogramVec
	// HashDuration observes the time of one password verification.
	HashDuration prometheus.Histogram
	// HashOverloads counts requests refused because the hash pool was full.
	HashOverloads prometheus.Counter
	// ThrottleRejections counts attempts refused by a throttle limit.
	ThrottleRejections *prometheus.CounterVec
	// BearerValidations counts bearer-protected requests by endpoint and outcome.
	BearerValidations *prometheus.CounterVec
	// HTTPRequests counts every API request by handler and status code.
	HTTPRequests *prometheus.CounterVec
	// InFlight is the number of API requests being served.
	InFlight prometheus.Gauge
	// ForwardedForIgnored counts token requests whose X-Forwarded-For came
	// from a peer that is not a trusted proxy.
	ForwardedForIgnored prometheus.Counter
	// StoreUnavailable counts requests refused with 503 because the store
	// could not be reached, by endpoint (the route's label, as
	// HTTPRequests' handler).
	StoreUnavailable *prometheus.CounterVec
	// RevocationPropagation observes, for every change the revocation
	// mirror applies from the store's change log, the time from its
	// writing to its application on this replica.
	RevocationPropagation prometheus.Histogram
}

// New creates and registers the collectors, plus the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		TokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_token_requests_total",
			Help: "Token endpoint requests by grant type and outcome (success or OAuth error code).",
		}, []string{"grant_type", "outcome"}),
		TokenDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authstack_token_request_duration_seconds",
			Help:    "Token endpoint latency by grant type and outcome (success or OAuth error code).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"grant_type", "outcome"}),
		HashDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "authstack_password_hash_duration_seconds",
			Help:    "Time of one password verification.",
			Buckets: []float64{.005, .01, .02, .03, .05, .075, .1, .2, .5},
		}),
		HashOverloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authstack_password_hash_overload_total",
			Help: "Token requests refused with 503 because the password hashing pool was full.",
		}),
		ThrottleRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_throttle_rejections_total",
			Help: "Token requests refused with 429 by limit (user_ip, ip, user_rate or client_rate).",
		}, []string{"limit"}),
		BearerValidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_bearer_validations_total",
			Help: "Bearer token validations by endpoint and outcome.",
		}, []string{endpointLabel, "outcome"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_http_requests_total",
			Help: "HTTP requests by handler and status code.",
		}, []string{"handler", "code"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authstack_http_requests_in_flight",
			Help: "API requests being served.",
		}),
		ForwardedForIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authstack_forwarded_for_ignored_total",
			Help: "Token requests whose X-Forwarded-For was ignored because the peer is not in --trusted-proxies.",
		}),
		StoreUnavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_store_unavailable_total",
			Help: "Requests refused with 503 because the store (Redis) could not be reached, by endpoint.",
		}, []string{endpointLabel}),
		RevocationPropagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "authstack_revocation_propagation_seconds",
			Help:    "Time from the writing of a revocation change (the store's clock) to its application by this replica's mirror.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.Registry.MustRegister(
		// The default Go metrics and the scheduler's latency: how long
		// goroutines wait runnable for a P (a request arriving while
		// every P runs a hash waits there, not in the handler).
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.TokenRequests, m.TokenDuration, m.HashDuration, m.HashOverloads,
		m.ThrottleRejections, m.BearerValidations, m.HTTPRequests, m.InFlight, m.ForwardedForIgnored,
		m.StoreUnavailable, m.RevocationPropagation,
	)
	for _, l := range ThrottleLimits {
		m.ThrottleRejections.WithLabelValues(l)
	}
	for _, o := range passwordOutcomes {
		m.TokenRequests.WithLabelValues("password", o)
	}
	return m
}

// BearerOutcome labels a failed bearer authentication for
// BearerValidations: the OAuth error code, or "missing_token" for a
// request without credentials.
func BearerOutcome(err error) string {
	if code := oauth.As(err).Code; code != "" {
		return code
	}
	return "missing_token"
}

// Validations counts one endpoint's bearer validations (BearerValidations
// under its endpoint label), with the success counter resolved once: a
// granted request, the hot path of /verify, looks up no labels.
type Validations struct {
	vec      *prometheus.CounterVec
	endpoint string
	success  prometheus.Counter
}

// Validations returns the counters of endpoint's bearer validations; a
// handler takes them when it is built.
func (m *Metrics) Validations(endpoint string) *Validations {
	return &Validations{vec: m.BearerValidations, endpoint: endpoint, success: m.BearerValidations.WithLabelValues(endpoint, "success")}
}

// Granted counts a validation that let the request through.
func (v *Validations) Granted() { v.success.Inc() }

// Refused counts a validation refused with outcome (an OAuth error code).
func (v *Validations) Refused(outcome string) { v.vec.WithLabelValues(v.endpoint, outcome).Inc() }

// ObservePropagation records one change's propagation to the mirror
// (mirror.Options.Propagation).
func (m *Metrics) ObservePropagation(d time.Duration) { m.RevocationPropagation.Observe(d.Seconds()) }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// MirrorStats is what the revocation mirror (*mirror.Mirror) reports.
type MirrorStats interface {
	Staleness() time.Duration
	MaxStaleness() time.Duration
	Stats() mirror.Stats
}

// RegisterMirror adds the revocation mirror's figures, read at scrape time.
func (m *Metrics) RegisterMirror(s MirrorStats) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "authstack_revocation_mirror_staleness_seconds",
		Help: "Age of the revocation mirror's knowledge; validation answers 503 above the staleness bound.",
	}, func() float64 { return min(s.Staleness().Seconds(), 1e9) }))
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "authstack_revocation_mirror_max_staleness_seconds",
		Help: "The staleness bound (--revocation-max-staleness): above it, validations answer 503.",
	}, func() float64 { return s.MaxStaleness().Seconds() }))
	for _, f := range []struct {
		name, help string
		counter    bool
		read       func(mirror.Stats) float64
	}{
		{"authstack_revocation_mirror_revoked_tokens", "Revoked access tokens (jtis) held by the mirror.", false,
			func(st mirror.Stats) float64 { return float64(st.RevokedTokens) }},
		{"authstack_revocation_mirror_revoked_sessions", "Revoked sessions (sids) held by the mirror.", false,
			func(st mirror.Stats) float64 { return float64(st.RevokedGrants) }},
		{"authstack_revocation_mirror_users", "User and client states held by the mirror (a client's under client:<id>).", false,
			func(st mirror.Stats) float64 { return float64(st.Users) }},
		{"authstack_revocation_mirror_loads_total", "Full loads of the revocation state (start, epoch change, trimmed log).", true,
			func(st mirror.Stats) float64 { return float64(st.Reloads) }},
		{"authstack_revocation_mirror_rollbacks_total", "Times the store was found rolled back and the epoch replaced.", true,
			func(st mirror.Stats) float64 { return float64(st.Rollbacks) }},
		{"authstack_revocation_mirror_sync_errors_total", "Failed reads of the store by the revocation mirror (it retries; validations fail closed once it is stale).", true,
			func(st mirror.Stats) float64 { return float64(st.SyncErrors) }},
		{"authstack_revocation_mirror_epoch_changes_total", "Times the revocation mirror found a new store epoch: the store lost its data or was found rolled back.", true,
			func(st mirror.Stats) float64 { return float64(st.EpochChanges) }},
	} {
		read := func() float64 { return f.read(s.Stats()) }
		if f.counter {
			m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: f.name, Help: f.help}, read))
		} else {
			m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: f.name, Help: f.help}, read))
		}
	}
}

// RegisterTokenCache adds the figures of the verified-token cache of a
// bearer endpoint, read at scrape time and labelled with the endpoint;
// nothing for a nil (disabled) cache.
func (m *Metrics) RegisterTokenCache(endpoint string, c *resourceserver.TokenCache) {
	if c == nil {
		return
	}
	labels := prometheus.Labels{endpointLabel: endpoint}
	for _, f := range []struct {
		name, help string
		counter    bool
		read       func(resourceserver.TokenCacheStats) float64
	}{
		{"authstack_token_cache_hits_total", "Bearer validations answered by the verified-token cache without a signature verification (refusals remembered included).", true,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.Hits) }},
		{"authstack_token_cache_misses_total", "Bearer validations that verified the token's signature.", true,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.Misses) }},
		{"authstack_token_cache_negative_hits_total", "Bearer validations refused from the cache's short memory of refusals.", true,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.NegativeHits) }},
		{"authstack_token_cache_evictions_total", "Cache entries evicted, oldest first, to stay within the bounds.", true,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.Evictions) }},
		{"authstack_token_cache_entries", "Verified tokens held by the cache.", false,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.Entries) }},
		{"authstack_token_cache_bytes", "Bytes the cached tokens count against the cache's byte bound.", false,
			func(st resourceserver.TokenCacheStats) float64 { return float64(st.Bytes) }},
	} {
		read := func() float64 { return f.read(c.Stats()) }
		if f.counter {
			m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: f.name, Help: f.help, ConstLabels: labels}, read))
		} else {
			m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: f.name, Help: f.help, ConstLabels: labels}, read))
		}
	}
}

// ThrottleStateStats is what the recorder of throttled users
// (*throttle.Recorder) reports.
type ThrottleStateStats interface {
	Dropped() int64
	FlushErrors() int64
}

// RegisterThrottleState adds the figures of the recorder of throttled
// users, read at scrape time.
func (m *Metrics) RegisterThrottleState(s ThrottleStateStats) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "authstack_throttle_state_dropped_total",
			Help: "Throttled users not recorded for the AuthUser status because the replica held its maximum between two flushes.",
		}, func() float64 { return float64(s.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "authstack_throttle_state_flush_errors_total",
			Help: "Flushes of throttled users to the store that failed (retried at the next flush).",
		}, func() float64 { return float64(s.FlushErrors()) }),
	)
}
