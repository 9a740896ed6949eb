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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/signer"
)

// Defaults of RemoteKeysOptions.
const (
	// DefaultRefreshInterval is how long a fetched key set is used before
	// the next scheduled fetch when the response has no Cache-Control
	// max-age.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultMinRefreshInterval and DefaultMaxRefreshInterval bound the
	// interval a response's max-age asks for.
	DefaultMinRefreshInterval = time.Minute
	DefaultMaxRefreshInterval = time.Hour
	// DefaultRefetchInterval is the least time between two fetches caused
	// by tokens naming a key the set does not hold.
	DefaultRefetchInterval = 10 * time.Second
	// DefaultFetchTimeout bounds one fetch: connection, request and body.
	DefaultFetchTimeout = 10 * time.Second
	// maxMetadataBytes bounds the authorization server metadata document.
	maxMetadataBytes = 64 << 10
	// maxRedirects bounds the redirects followed by one fetch.
	maxRedirects = 3
)

// ErrRefetchLimited is returned by [RemoteKeys.Refetch] when the previous
// on-demand fetch is more recent than the refetch interval.
var ErrRefetchLimited = errors.New("jwks refetch rate limited")

var errClosed = errors.New("remote keys closed")

// RemoteKeysOptions configure a [RemoteKeys].
type RemoteKeysOptions struct {
	// Issuer is the authorization server's issuer identifier. Unless
	// JWKSURL is set, the jwks_uri is read from its metadata at
	// <issuer>/.well-known/oauth-authorization-server (RFC 8414 §3), whose
	// "issuer" must equal Issuer exactly (§3.3).
	Issuer string
	// JWKSURL is the JWK Set URL, which skips discovery.
	JWKSURL string
	// HTTPClient makes the requests; nil means a client with the default
	// transport. Its redirect policy is wrapped so that redirects stay on
	// allowed schemes.
	HTTPClient *http.Client
	// AllowHTTP accepts http:// URLs (issuer, metadata, jwks_uri,
	// redirects), for development and tests only. Otherwise only https is
	// used.
	AllowHTTP bool
	// RefreshInterval is the time between scheduled fetches when the
	// response has no Cache-Control max-age (DefaultRefreshInterval when
	// zero). A max-age is honoured within [MinRefreshInterval,
	// MaxRefreshInterval] (DefaultMinRefreshInterval and
	// DefaultMaxRefreshInterval when zero).
	RefreshInterval    time.Duration
	MinRefreshInterval time.Duration
	MaxRefreshInterval time.Duration
	// RefetchInterval is the least time between two fetches caused by an
	// unknown kid (DefaultRefetchInterval when zero).
	RefetchInterval time.Duration
	// FetchTimeout bounds one fetch (DefaultFetchTimeout when zero).
	FetchTimeout time.Duration
	// Logger receives fetch failures and key set changes; nil means
	// slog.Default().
	Logger *slog.Logger
	// Clock is the clock of the refetch rate limit; nil is the real
	// clock. Scheduled refreshes use real timers.
	Clock clock.PassiveClock
}

// RemoteKeys is a [KeySource] of an authorization server's public
// keys, fetched from its JWK Set URL and parsed by [ParseJWKS].
//
// [NewRemoteKeys] starts a background loop that fetches the set at once,
// retries with backoff until the first fetch succeeds, then fetches again
// when the Cache-Control max-age of the last response runs out. A failed
// refresh keeps the last good set. Until the first fetch succeeds,
// Current returns nil (the middleware answers 503); [RemoteKeys.WaitReady]
// waits for it. [RemoteKeys.Refetch] fetches on demand, for a token that
// names an unknown key, at most once per RefetchInterval; concurrent
// callers share one fetch.
type RemoteKeys struct {
	opts   RemoteKeysOptions
	client *http.Client
	log    *slog.Logger

	current   atomic.Pointer[signer.KeySet]
	ready     chan struct{} // closed when the first successful fetch ends
	readyOnce sync.Once

	mu          sync.Mutex
	inflight    *fetchCall
	lastRefetch time.Time // start of the last on-demand fetch
	jwksURL     string    // explicit or discovered
	lastDoc     []byte    // the last document parsed, to log changes once
	closed      bool

	fetches atomic.Int64 // fetches started, for tests and metrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// fetchCall is one fetch, shared by everyone who asks while it runs.
type fetchCall struct {
	done    chan struct{}
	err     error
	refresh time.Duration // when to fetch next, from the response
}

// NewRemoteKeys checks opts and starts fetching in the background; it
// does no network I/O itself. Call Close to stop it.
func NewRemoteKeys(opts RemoteKeysOptions) (*RemoteKeys, error) {
	if opts.Issuer == "" && opts.JWKSURL == "" {
		return nil, errors.New("remote keys: issuer or jwks url is required")
	}
	if opts.Issuer != "" {
		if err := checkURL("issuer", opts.Issuer, opts.AllowHTTP); err != nil {
			return nil, fmt.Errorf("remote keys: %w", err)
		}
		if strings.Contains(opts.Issuer, "?") {
			return nil, fmt.Errorf("remote keys: issuer %q has a query (RFC 8414 §2)", clip(opts.Issuer))
		}
	}
	if opts.JWKSURL != "" {
		if err := checkURL("jwks url", opts.JWKSURL, opts.AllowHTTP); err != nil {
			return nil, fmt.Errorf("remote keys: %w", err)
		}
	}
	setDefault(&opts.RefreshInterval, DefaultRefreshInterval)
	setDefault(&opts.MinRefreshInterval, DefaultMinRefreshInterval)
	setDefault(&opts.MaxRefreshInterval, DefaultMaxRefreshInterval)
	setDefault(&opts.RefetchInterval, DefaultRefetchInterval)
	setDefault(&opts.FetchTimeout, DefaultFetchTimeout)
	if opts.MinRefreshInterval > opts.MaxRefreshInterval {
		return nil, fmt.Errorf("remote keys: min refresh interval %v exceeds max %v", opts.MinRefreshInterval, opts.MaxRefreshInterval)
	}
	opts.Clock = clocks.Or(opts.Clock)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}

	r := &RemoteKeys{
		opts: opts, client: redirectChecked(opts.HTTPClient, opts.AllowHTTP), log: log,
		ready: make(chan struct{}), jwksURL: opts.JWKSURL,
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.run()
	return r, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Current returns the last key set fetched, or nil before the first
// successful fetch. It implements KeySource.
func (r *RemoteKeys) Current() *signer.KeySet { return r.current.Load() }

// Ready reports whether a key set has been fetched.
func (r *RemoteKeys) Ready() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// WaitReady waits until a key set has been fetched or ctx is done.
func (r *RemoteKeys) WaitReady(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jwks not loaded: %w", ctx.Err())
	}
}

// Refresh fetches the key set now, or waits for the fetch already under
// way, regardless of the refetch rate limit. On error the current set is
// kept.
func (r *RemoteKeys) Refresh(ctx context.Context) error {
	c, _ := r.start(false)
	return wait(ctx, c)
}

// Refetch fetches the key set because a token names a key it does not
// hold. Callers that ask while a fetch is under way share it. Otherwise it
// fetches only if RefetchInterval has passed since the previous on-demand
// fetch, and returns ErrRefetchLimited if not. Callers then look the kid
// up in Current again. On error the current set is kept.
func (r *RemoteKeys) Refetch(ctx context.Context) error {
	c, err := r.start(true)
	if err != nil {
		return err
	}
	return wait(ctx, c)
}

// Close stops the background loop and waits for fetches under way to end.
// The last key set stays available.
func (r *RemoteKeys) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// Fetches returns the number of JWK Set fetches started so far.
func (r *RemoteKeys) Fetches() int64 { return r.fetches.Load() }

// start returns the fetch under way, or starts one; limited applies the
// refetch rate limit.
func (r *RemoteKeys) start(limited bool) (*fetchCall, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight, nil
	}
	if r.closed {
		c := &fetchCall{done: make(chan struct{}), err: errClosed}
		close(c.done)
		return c, nil
	}
	if limited {
		now := r.opts.Clock.Now()
		if !r.lastRefetch.IsZero() && now.Sub(r.lastRefetch) < r.opts.RefetchInterval {
			return nil, ErrRefetchLimited
		}
		r.lastRefetch = now
	}
	c := &fetchCall{done: make(chan struct{})}
	r.inflight = c
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		c.refresh, c.err = r.fetch(r.ctx)
		r.mu.Lock()
		r.inflight = nil
		r.mu.Unlock()
		if c.err == nil {
			r.readyOnce.Do(func() { close(r.ready) })
		}
		close(c.done)
	}()
	return c, nil
}

func wait(ctx context.Context, c *fetchCall) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run fetches on schedule until Close: after a success when the response
// says, after a failure with exponential backoff.
func (r *RemoteKeys) run() {
	defer r.wg.Done()
	var backoff time.Duration
	for {
		c, _ := r.start(false)
		var next time.Duration
		select {
		case <-c.done:
		case <-r.ctx.Done():
			return
		}
		if r.ctx.Err() != nil {
			return
		}
		if c.err == nil {
			backoff = 0
			next = jitter(c.refresh)
		} else {
			backoff = r.nextBackoff(backoff)
			next = backoff
			if r.Ready() {
				r.log.Warn("JWKS refresh failed, keeping the current key set", "error", c.err, "retry_in", next)
			} else {
				r.log.Error("JWKS fetch failed, no key set yet: requests are refused with 503", "error", c.err, "retry_in", next)
			}
		}
		t := time.NewTimer(next)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return
		}
	}
}

// nextBackoff doubles the retry delay from 1 s up to MinRefreshInterval,
// or up to 30 s while no set has been fetched yet.
func (r *RemoteKeys) nextBackoff(prev time.Duration) time.Duration {
	limit := r.opts.MinRefreshInterval
	if !r.Ready() {
		limit = min(limit, 30*time.Second)
	}
	if prev == 0 {
		return min(time.Second, limit)
	}
	return min(2*prev, limit)
}

// jitter shortens d by up to 10 %, so that replicas started together do
// not fetch together.
func jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d - rand.N(d/10)
}

// fetch fetches, parses and stores the key set, and returns when to fetch
// again.
func (r *RemoteKeys) fetch(ctx context.Context) (time.Duration, error) {
	r.fetches.Add(1)
	ctx, cancel := context.WithTimeout(ctx, r.opts.FetchTimeout)
	defer cancel()

	jwksURL, err := r.resolveJWKSURL(ctx)
	if err != nil {
		return 0, err
	}
	body, header, err := r.get(ctx, jwksURL, "application/jwk-set+json, application/json", signer.MaxJWKSBytes)
	if err != nil {
		r.forgetDiscovered()
		return 0, fmt.Errorf("fetch jwks: %w", err)
	}
	ks, skipped, err := signer.ParseJWKS(body)
	if err != nil {
		return 0, fmt.Errorf("fetch jwks from %s: %w", jwksURL, err)
	}
	r.store(ks, body, skipped)
	return refreshAfter(header, r.opts.RefreshInterval, r.opts.MinRefreshInterval, r.opts.MaxRefreshInterval), nil
}

// store swaps in ks unless it holds the same keys as the current set, and
// logs a change of the document once.
func (r *RemoteKeys) store(ks *signer.KeySet, doc []byte, skipped []error) {
	r.mu.Lock()
	changed := !bytes.Equal(doc, r.lastDoc)
	r.lastDoc = doc
	r.mu.Unlock()
	if old := r.current.Load(); old == nil || !bytes.Equal(old.JWKS(), ks.JWKS()) {
		r.current.Store(ks)
		kids := make([]string, len(ks.Keys))
		for i, k := range ks.Keys {
			kids[i] = k.ID
		}
		r.log.Info("JWKS loaded", "kids", kids)
	}
	if changed && len(skipped) > 0 {
		r.log.Warn("JWKS holds keys that cannot verify tokens; they are ignored", "skipped", errors.Join(skipped...))
	}
}

// resolveJWKSURL returns the configured or discovered jwks_uri, reading
// the issuer's metadata when none is known yet.
func (r *RemoteKeys) resolveJWKSURL(ctx context.Context) (string, error) {
	r.mu.Lock()
	u := r.jwksURL
	r.mu.Unlock()
	if u != "" {
		return u, nil
	}
	metaURL := metadataURL(r.opts.Issuer)
	body, _, err := r.get(ctx, metaURL, "application/json", maxMetadataBytes)
	if err != nil {
		return "", fmt.Errorf("discover jwks_uri: %w", err)
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return "", fmt.Errorf("discover jwks_uri: metadata at %s is not a JSON object", metaURL)
	}
	if meta.Issuer != r.opts.Issuer {
		return "", fmt.Errorf("discover jwks_uri: metadata issuer %q is not %q (RFC 8414 §3.3)", clip(meta.Issuer), r.opts.Issuer)
	}
	if err := checkURL("jwks_uri", meta.JWKSURI, r.opts.AllowHTTP); err != nil {
		return "", fmt.Errorf("discover jwks_uri: %w", err)
	}
	r.mu.Lock()
	r.jwksURL = meta.JWKSURI
	r.mu.Unlock()
	return meta.JWKSURI, nil
}

// forgetDiscovered drops a discovered jwks_uri after a failed fetch, so
// that the next one reads the metadata again.
func (r *RemoteKeys) forgetDiscovered() {
	if r.opts.JWKSURL != "" {
		return
	}
	r.mu.Lock()
	r.jwksURL = ""
	r.mu.Unlock()
}

// get fetches u and returns its body of at most limit bytes, failing on
// any status but 200.
func (r *RemoteKeys) get(ctx context.Context, u, accept string, limit int64) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("GET %s: response larger than %d bytes", u, limit)
	}
	return body, resp.Header, nil
}

// metadataURL is the RFC 8414 §3.1 metadata URL of issuer: the well-known
// suffix goes between the host and the issuer's path.
func metadataURL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer // checked in NewRemoteKeys
	}
	const wellKnown = "/.well-known/oauth-authorization-server"
	u.RawPath = wellKnown + strings.TrimSuffix(u.EscapedPath(), "/")
	u.Path = wellKnown + strings.TrimSuffix(u.Path, "/")
	return u.String()
}

// checkURL accepts an absolute https URL (or http if allowed) with a host
// and without user info or fragment.
func checkURL(what, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%s %q is not an absolute URL with a host", what, clip(raw))
	}
	if !schemeAllowed(u.Scheme, allowHTTP) {
		return fmt.Errorf("%s %q must use https", what, clip(raw))
	}
	return nil
}

func schemeAllowed(scheme string, allowHTTP bool) bool {
	return scheme == "https" || (allowHTTP && scheme == "http")
}

// redirectChecked returns a copy of c (or of a default client) whose
// redirects stay on allowed schemes, at most maxRedirects of them.
func redirectChecked(c *http.Client, allowHTTP bool) *http.Client {
	var cc http.Client
	if c != nil {
		cc = *c
	}
	inner := cc.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if !schemeAllowed(req.URL.Scheme, allowHTTP) {
			return fmt.Errorf("redirect to a %s URL refused", req.URL.Scheme)
		}
		if inner != nil {
			return inner(req, via)
		}
		return nil
	}
	return &cc
}

// refreshAfter returns when to fetch again after a response with header h:
// its Cache-Control max-age less its Age, within [lo, hi]; lo for no-cache
// or no-store; def when there is no max-age.
func refreshAfter(h http.Header, def, lo, hi time.Duration) time.Duration {
	d := def
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return lo
			case "max-age":
				d = lo // RFC 9111 §4.2.1: an invalid max-age means stale
				if secs, ok := deltaSeconds(val); ok {
					if age, ok := deltaSeconds(h.Get("Age")); ok {
						secs = max(secs-age, 0)
					}
					d = time.Duration(secs) * time.Second
				}
			}
		}
	}
	return min(max(d, lo), hi)
}

// deltaSeconds parses RFC 9111 §1.2.2 delta-seconds (quotes tolerated),
// capped at 2^31.
func deltaSeconds(s string) (int64, bool) {
	s = strings.Trim(s, `"`)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 1<<31 {
		return 1 << 31, true
	}
	return n, true
}

// clip shortens a value from a remote document for an error message.
func clip(s string) string {
	const max = 128
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
