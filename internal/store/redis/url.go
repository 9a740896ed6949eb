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

package redis

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// topology is the kind of deployment a URL names.
type topology int

const (
	standalone topology = iota
	sentinel
	cluster
)

// The schemes go-redis's parsers understand: without and with TLS.
const (
	baseRedis  = "redis"
	baseRediss = "rediss"
)

// schemes maps each accepted URL scheme to the scheme go-redis's parsers
// understand and the topology.
var schemes = map[string]struct {
	base string
	topo topology
}{
	"redis":           {baseRedis, standalone},
	"rediss":          {baseRediss, standalone},
	"unix":            {"unix", standalone},
	"redis+sentinel":  {baseRedis, sentinel},
	"rediss+sentinel": {baseRediss, sentinel},
	"redis+cluster":   {baseRedis, cluster},
	"rediss+cluster":  {baseRediss, cluster},
}

// errInvalidURL says nothing of the URL's content: it may hold a password.
var errInvalidURL = errors.New("redis store: invalid redis URL (check the scheme, host:port, path and query parameters; " +
	"is a password with reserved characters percent-encoded?)")

// credentialParams are query parameters that would carry credentials.
// Credentials belong in the user info, which url.URL.Redacted hides and
// which is the one place for them in every URL form.
var credentialParams = []string{"username", "password", "sentinel_username", "sentinel_password"}

// clientOptions is opts.URL parsed for one topology: exactly one field is
// set.
type clientOptions struct {
	single   *goredis.Options
	failover *goredis.FailoverOptions
	cluster  *goredis.ClusterOptions
}

// newClient builds the client: a Client for redis:// and rediss://, a
// Sentinel-backed failover Client for redis+sentinel://, a ClusterClient
// for redis+cluster://. It does not contact Redis.
func (c clientOptions) newClient() goredis.UniversalClient {
	switch {
	case c.failover != nil:
		return goredis.NewFailoverClient(c.failover)
	case c.cluster != nil:
		return goredis.NewClusterClient(c.cluster)
	default:
		return goredis.NewClient(c.single)
	}
}

// parseOptions parses opts.URL and applies the TLS options and the
// fail-fast defaults. Its errors never quote the URL.
func parseOptions(opts Options) (clientOptions, error) {
	if opts.URL == "" {
		return clientOptions{}, errors.New("redis store: no URL")
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		return clientOptions{}, errInvalidURL
	}
	s, ok := schemes[u.Scheme]
	if !ok {
		return clientOptions{}, errors.New("redis store: unsupported URL scheme " +
			"(want redis, rediss, unix, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster)")
	}
	q := u.Query()
	for _, p := range credentialParams {
		if q.Has(p) {
			return clientOptions{}, fmt.Errorf("redis store: query parameter %s is not accepted: "+
				"put the user and password in the URL's user info", p)
		}
	}
	if s.topo != sentinel && (opts.SentinelUsername != "" || opts.SentinelPassword != "") {
		return clientOptions{}, errors.New("redis store: sentinel credentials need a redis+sentinel:// or rediss+sentinel:// URL")
	}
	if s.base != baseRediss && (opts.TLSCAFile != "" || opts.TLSCertFile != "" || opts.TLSKeyFile != "" || opts.TLSServerName != "") {
		return clientOptions{}, errors.New("redis store: TLS options need a rediss:// URL (rediss, rediss+sentinel or rediss+cluster)")
	}
	baseURL := *u
	baseURL.Scheme = s.base
	raw := baseURL.String()

	var c clientOptions
	switch s.topo {
	case sentinel:
		o, err := goredis.ParseFailoverURL(raw)
		if err != nil {
			return clientOptions{}, errInvalidURL
		}
		if o.MasterName == "" {
			return clientOptions{}, errors.New("redis store: a sentinel URL needs master_name (e.g. ?master_name=mymaster)")
		}
		// The user info authenticates to the data nodes and, unless
		// sentinel credentials are given, to the sentinels as well.
		o.Username, o.Password = userInfo(u)
		o.SentinelUsername, o.SentinelPassword = o.Username, o.Password
		if opts.SentinelUsername != "" || opts.SentinelPassword != "" {
			o.SentinelUsername, o.SentinelPassword = opts.SentinelUsername, opts.SentinelPassword
		}
		if o.TLSConfig, err = opts.tlsConfig(o.TLSConfig); err != nil {
			return clientOptions{}, err
		}
		failoverTuning(o).apply(q)
		c.failover = o
	case cluster:
		// A cluster has database 0 only; ParseClusterURL ignores the path.
		if p := u.Path; p != "" && p != "/" && p != "/0" {
			return clientOptions{}, errors.New("redis store: a cluster URL names no database (Redis Cluster has database 0 only)")
		}
		o, err := goredis.ParseClusterURL(raw)
		if err != nil {
			return clientOptions{}, errInvalidURL
		}
		if o.TLSConfig, err = opts.tlsConfig(o.TLSConfig); err != nil {
			return clientOptions{}, err
		}
		clusterTuning(o).apply(q)
		c.cluster = o
	default:
		o, err := goredis.ParseURL(raw)
		if err != nil {
			return clientOptions{}, errInvalidURL
		}
		if o.TLSConfig, err = opts.tlsConfig(o.TLSConfig); err != nil {
			return clientOptions{}, err
		}
		failFast(o, raw)
		c.single = o
	}
	return c, nil
}

// userInfo returns the URL's user and password as go-redis reads them: a
// password alone is written redis://:password@host.
func userInfo(u *url.URL) (user, password string) {
	if u.User == nil {
		return "", ""
	}
	password, _ = u.User.Password()
	return u.User.Username(), password
}

// tlsConfig completes parsed, the TLS configuration go-redis derived from
// a rediss URL (nil for redis URLs), with the options' CA, client
// certificate and server name, and TLS 1.2 at least. Without
// TLSServerName the certificate is checked against the host each
// connection dials: the URL's host for the nodes it names, and the address
// Sentinel or the cluster announces for the others.
func (opts Options) tlsConfig(parsed *tls.Config) (*tls.Config, error) {
	if parsed == nil {
		return nil, nil
	}
	c := parsed.Clone() // keeps skip_verify
	c.MinVersion = tls.VersionTLS12
	c.ServerName = opts.TLSServerName
	if opts.TLSCAFile != "" {
		pem, err := os.ReadFile(opts.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("redis store: TLS CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis store: TLS CA: no PEM certificate in %s", opts.TLSCAFile)
		}
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("redis store: a TLS client certificate needs both the certificate and the key file")
	}
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("redis store: TLS client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Client defaults for an authorization server, which must answer 503 fast
// rather than hold a login for seconds while Redis is away. go-redis's own
// defaults (5 s dial, 5 s read and write, 3 retries backing off up to 1 s,
// 5 dial attempts 100 ms apart) make a request wait seconds against a dead
// or stalled server. They apply to every connection of every topology: to
// the nodes, the sentinels and the cluster members. Query parameters in
// the URL (dial_timeout, read_timeout, write_timeout, max_retries,
// max_retry_backoff, pool_timeout, and for Sentinel and Cluster URLs
// dialer_retries and dialer_retry_timeout) take precedence.
const (
	defaultDialTimeout     = time.Second
	defaultReadTimeout     = 500 * time.Millisecond
	defaultWriteTimeout    = 500 * time.Millisecond
	defaultMaxRetries      = 1
	defaultMaxRetryBackoff = 50 * time.Millisecond
	defaultPoolTimeout     = time.Second
	// Dial attempts per connection and the pause between them.
	defaultDialerRetries      = 2
	defaultDialerRetryTimeout = 25 * time.Millisecond
)

// tuning points at the settings failFast decides, in whichever options
// type the URL was parsed into.
type tuning struct {
	dialTimeout, readTimeout, writeTimeout *time.Duration
	maxRetries                             *int
	maxRetryBackoff, poolTimeout           *time.Duration
	dialerRetries                          *int
	dialerRetryTimeout                     *time.Duration
}

// failFast applies the fail-fast defaults to the options of a standalone
// URL, leaving alone what rawURL's query sets.
func failFast(o *goredis.Options, rawURL string) {
	var q url.Values
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	tuning{
		&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries,
		&o.MaxRetryBackoff, &o.PoolTimeout, &o.DialerRetries, &o.DialerRetryTimeout,
	}.apply(q)
}

func failoverTuning(o *goredis.FailoverOptions) tuning {
	return tuning{
		&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries,
		&o.MaxRetryBackoff, &o.PoolTimeout, &o.DialerRetries, &o.DialerRetryTimeout,
	}
}

func clusterTuning(o *goredis.ClusterOptions) tuning {
	return tuning{
		&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries,
		&o.MaxRetryBackoff, &o.PoolTimeout, &o.DialerRetries, &o.DialerRetryTimeout,
	}
}

// apply sets each default whose query parameter is absent from q.
func (t tuning) apply(q url.Values) {
	set := func(name string, apply func()) {
		if !q.Has(name) {
			apply()
		}
	}
	set("dial_timeout", func() { *t.dialTimeout = defaultDialTimeout })
	set("read_timeout", func() { *t.readTimeout = defaultReadTimeout })
	set("write_timeout", func() { *t.writeTimeout = defaultWriteTimeout })
	set("max_retries", func() { *t.maxRetries = defaultMaxRetries })
	set("max_retry_backoff", func() { *t.maxRetryBackoff = defaultMaxRetryBackoff })
	set("pool_timeout", func() { *t.poolTimeout = defaultPoolTimeout })
	set("dialer_retries", func() { *t.dialerRetries = defaultDialerRetries })
	set("dialer_retry_timeout", func() { *t.dialerRetryTimeout = defaultDialerRetryTimeout })
}
