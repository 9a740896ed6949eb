package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RevokeAccessToken records jti as revoked until exp. The key holds exp so
// that AccessTokenRevoked can judge it against the caller's now.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, exp time.Time) error {
	err := s.client.SetArgs(ctx, s.keys.revoked(jti), exp.UTC().Format(time.RFC3339Nano), goredis.SetArgs{
		ExpireAt: time.UnixMilli(expireAt(exp, gcGrace)),
	}).Err()
	if err != nil {
		return unavailable("revoke access token", err)
	}
	return nil
}

// AccessTokenRevoked reports whether jti was revoked with an exp after now.
func (s *Store) AccessTokenRevoked(ctx context.Context, jti string, now time.Time) (bool, error) {
	const op = "check access token revocation"
	v, err := s.client.Get(ctx, s.keys.revoked(jti)).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(op, err)
	}
	exp, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return false, fmt.Errorf("%s: decode: %w", op, err)
	}
	return now.Before(exp), nil
}
