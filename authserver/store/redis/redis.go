package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/authserver/store"
)

var _ store.Store = (*Store)(nil)

// DefaultKeyPrefix is used when Options.KeyPrefix is empty.
const DefaultKeyPrefix = "authstack"

// Options configures New.
type Options struct {
	// URL is a redis:// or rediss:// (TLS) URL as understood by go-redis's
	// ParseURL, e.g. rediss://user:password@host:6380/0. It is ignored when
	// Client is set.
	URL string
	// KeyPrefix starts every key; DefaultKeyPrefix if empty.
	KeyPrefix string
	// ChangeLogLength is the approximate number of revocation changes kept
	// for replicas catching up (XADD MAXLEN ~); DefaultChangeLogLength when
	// zero. A replica further behind loads the whole state again.
	ChangeLogLength int64
	// Client, if set, is used instead of dialling URL (tests, Sentinel,
	// Cluster). The caller keeps ownership: Close does not close it.
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
// with PING. Errors reaching Redis wrap store.ErrUnavailable.
func New(ctx context.Context, opts Options) (*Store, error) {
	client, owned := opts.Client, false
	if client == nil {
		if opts.URL == "" {
			return nil, errors.New("redis store: no URL")
		}
		o, err := goredis.ParseURL(opts.URL)
		if err != nil {
			// Parse errors quote parts of the URL, which may hold a
			// password: say nothing of its content.
			return nil, errors.New("redis store: invalid redis URL (is a password with reserved characters percent-encoded?)")
		}
		failFast(o, opts.URL)
		client, owned = goredis.NewClient(o), true
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

// Client defaults for an authorization server, which must answer 503 fast
// rather than hold a login for seconds while Redis is away. go-redis's own
// defaults (5 s dial, 5 s read and write, 3 retries backing off up to 1 s,
// 5 dial attempts 100 ms apart) make a request wait seconds against a dead
// or stalled server. Query parameters in the
// URL (dial_timeout, read_timeout, write_timeout, max_retries,
// max_retry_backoff, pool_timeout) take precedence.
const (
	defaultDialTimeout     = time.Second
	defaultReadTimeout     = 500 * time.Millisecond
	defaultWriteTimeout    = 500 * time.Millisecond
	defaultMaxRetries      = 1
	defaultMaxRetryBackoff = 50 * time.Millisecond
	defaultPoolTimeout     = time.Second
	// Dial attempts per connection and the pause between them; go-redis
	// takes these from Options only, not from the URL.
	defaultDialerRetries      = 2
	defaultDialerRetryTimeout = 25 * time.Millisecond
)

func failFast(o *goredis.Options, rawURL string) {
	var q url.Values
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	set := func(name string, apply func()) {
		if !q.Has(name) {
			apply()
		}
	}
	set("dial_timeout", func() { o.DialTimeout = defaultDialTimeout })
	set("read_timeout", func() { o.ReadTimeout = defaultReadTimeout })
	set("write_timeout", func() { o.WriteTimeout = defaultWriteTimeout })
	set("max_retries", func() { o.MaxRetries = defaultMaxRetries })
	set("max_retry_backoff", func() { o.MaxRetryBackoff = defaultMaxRetryBackoff })
	set("pool_timeout", func() { o.PoolTimeout = defaultPoolTimeout })
	if o.DialerRetries == 0 {
		o.DialerRetries, o.DialerRetryTimeout = defaultDialerRetries, defaultDialerRetryTimeout
	}
}
