package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"

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
	// Client, if set, is used instead of dialling URL (tests, Sentinel,
	// Cluster). The caller keeps ownership: Close does not close it.
	Client goredis.UniversalClient
}

// Store is a store.Store backed by Redis. It is safe for concurrent use.
type Store struct {
	client goredis.UniversalClient
	keys   keyspace
	owned  bool // Close closes client
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
			// url.Error repeats the URL, which may hold a password.
			if ue := (*url.Error)(nil); errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("redis store: parse url: %w", err)
		}
		client, owned = goredis.NewClient(o), true
	}
	s := &Store{client: client, keys: newKeyspace(opts.KeyPrefix), owned: owned}
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
	return &Store{client: client, keys: newKeyspace(prefix)}
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
