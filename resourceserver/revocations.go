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
	"time"

	"github.com/authstack/authstack/internal/mirror"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// RedisOptions names the token servers' Redis, for [NewRevocations].
type RedisOptions struct {
	// URL is the token servers' --redis-url: redis://, rediss://,
	// redis[s]+sentinel:// or redis[s]+cluster:// (docs/redis-deployments.md).
	URL string
	// KeyPrefix is the token servers' --redis-key-prefix; "authstack" if
	// empty.
	KeyPrefix string
	// SentinelUsername and SentinelPassword replace the URL's credentials
	// for the sentinels, as the servers' flags of those names do.
	SentinelUsername, SentinelPassword string
	// TLSCAFile, TLSCertFile, TLSKeyFile and TLSServerName are the servers'
	// --redis-tls-* values, for rediss URLs.
	TLSCAFile, TLSCertFile, TLSKeyFile, TLSServerName string
	// MaxStaleness is the oldest revocation state Check trusts; beyond it
	// Check fails and the middleware answers 503. 2 s if zero, as the
	// servers' --revocation-max-staleness.
	MaxStaleness time.Duration
	// Leeway keeps a revocation this long after the token's exp; set it to
	// the middleware's Options.Leeway.
	Leeway time.Duration
	// Logger receives the mirror's reconnects and reloads; none if nil.
	Logger *slog.Logger
}

// Revocations is a [RevocationChecker] that follows the token servers'
// revocation state in their Redis, as every token server replica does: it
// loads the state, then follows the change log, so that Check sends no
// command to Redis. A token revoked at any server's /revoke, and the
// tokens of a user since disabled, deleted or logged out, are refused
// within milliseconds; a copy older than MaxStaleness refuses everything
// (503), never lets a token through unchecked.
type Revocations struct {
	m      *mirror.Mirror
	store  *redisstore.Store
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRevocations connects to the servers' Redis and starts following it
// until Close. Check fails until the first load, which [Revocations.Fresh]
// and [Revocations.WaitReady] report.
func NewRevocations(ctx context.Context, o RedisOptions) (*Revocations, error) {
	st, err := redisstore.New(ctx, redisstore.Options{
		URL: o.URL, KeyPrefix: o.KeyPrefix,
		SentinelUsername: o.SentinelUsername, SentinelPassword: o.SentinelPassword,
		TLSCAFile: o.TLSCAFile, TLSCertFile: o.TLSCertFile, TLSKeyFile: o.TLSKeyFile, TLSServerName: o.TLSServerName,
	})
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Revocations{
		m:     mirror.New(mirror.Options{Feed: st, MaxStaleness: o.MaxStaleness, Leeway: o.Leeway, Log: log}),
		store: st,
		done:  make(chan struct{}),
	}
	// Detached from ctx, which only bounds the connection: the mirror runs
	// until Close.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = r.m.Run(runCtx)
	}()
	return r, nil
}

// Check refuses a revoked token with an error wrapping
// accesstoken.ErrInvalidToken, and every token with another error while
// the copy is stale.
func (r *Revocations) Check(c *accesstoken.Claims) error { return r.m.Check(c) }

// Fresh reports whether the copy is within MaxStaleness: a readiness probe.
func (r *Revocations) Fresh() bool { return r.m.Fresh() }

// WaitReady waits until the copy is fresh, or ctx ends.
func (r *Revocations) WaitReady(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !r.m.Fresh() {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-r.done:
			return errors.New("resourceserver: revocations closed")
		case <-t.C:
		}
	}
	return nil
}

// Close stops following Redis and closes the connection.
func (r *Revocations) Close() error {
	r.cancel()
	<-r.done
	return r.store.Close()
}
