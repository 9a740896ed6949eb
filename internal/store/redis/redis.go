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
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

var _ store.Store = (*Store)(nil)

// DefaultKeyPrefix is used when Options.KeyPrefix is empty.
const DefaultKeyPrefix = "authstack"

// Options configures New.
type Options struct {
	// URL names the deployment; it is ignored when Client is set:
	//
	//	redis://[user:password@]host:port[/db][?option=value...]
	//	rediss://...                        the same over TLS
	//	unix://[user:password@]/path/to/redis.sock[?db=N]
	//	redis+sentinel://[user:password@]host:port[/db]?master_name=mymaster[&addr=host2:port2...]
	//	rediss+sentinel://...               the same over TLS (sentinels and data nodes)
	//	redis+cluster://[user:password@]host:port[?addr=host2:port2...]
	//	rediss+cluster://...                the same over TLS
	//
	// host:port and the addr parameters name the server, the sentinels or
	// the cluster nodes to start from. The user and password (percent-
	// encoded; ":password@" for the default user) authenticate to Redis:
	// to every data node, and to the sentinels unless SentinelUsername or
	// SentinelPassword is set. They are accepted only in the user info,
	// never as query parameters. Other query parameters are go-redis's
	// (dial_timeout, read_timeout, max_retries, pool_size, ...); they take
	// precedence over the store's fail-fast defaults.
	URL string
	// SentinelUsername and SentinelPassword, when either is set, replace
	// the URL's user and password for the connections to the sentinels
	// (a sentinel URL only). SentinelUsername "default" alone connects to
	// sentinels that require no password.
	SentinelUsername, SentinelPassword string
	// TLSCAFile is a PEM bundle of the CAs trusted to sign the servers'
	// certificates, instead of the system roots (rediss URLs only).
	TLSCAFile string
	// TLSCertFile and TLSKeyFile are a PEM client certificate and its key,
	// presented to servers that require one (mTLS).
	TLSCertFile, TLSKeyFile string
	// TLSServerName is the name every server certificate is checked
	// against; empty means the host each connection dials.
	TLSServerName string
	// KeyPrefix starts every key; DefaultKeyPrefix if empty.
	KeyPrefix string
	// ChangeLogLength is the approximate number of revocation changes kept
	// for replicas catching up (XADD MAXLEN ~); DefaultChangeLogLength when
	// zero. A replica further behind loads the whole state again.
	ChangeLogLength int64
	// Client, if set, is used instead of dialling URL (tests, or clients
	// configured beyond what the URL can say). The caller keeps ownership:
	// Close does not close it.
	Client goredis.UniversalClient
}

// Store is a store.Store backed by Redis. It is safe for concurrent use.
type Store struct {
	client goredis.UniversalClient
	keys   keyspace
	owned  bool // Close closes client
	logLen int64
}

// New connects to Redis as configured by opts and checks the connection
// with PING. Errors reaching Redis wrap store.ErrUnavailable; errors in
// opts never quote the URL, which may hold a password.
func New(ctx context.Context, opts Options) (*Store, error) {
	client, owned := opts.Client, false
	if client == nil {
		o, err := parseOptions(opts)
		if err != nil {
			return nil, err
		}
		client, owned = o.newClient(), true
	}
	s := &Store{client: client, keys: newKeyspace(opts.KeyPrefix), owned: owned, logLen: logLength(opts.ChangeLogLength)}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// NewFromClient returns a Store using client and keys starting with prefix
// (DefaultKeyPrefix if empty). It does not contact Redis. The caller keeps
// ownership of client: Close does not close it.
func NewFromClient(client goredis.UniversalClient, prefix string) *Store {
	return &Store{client: client, keys: newKeyspace(prefix), logLen: DefaultChangeLogLength}
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the client if New created it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis store: close: %w", err)
	}
	return nil
}

// unavailable wraps an error from go-redis (other than redis.Nil) so that
// callers can match both store.ErrUnavailable and the cause.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
}
