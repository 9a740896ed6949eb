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
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// revokeScript adds a revocation and its log entry, unless the id is
// already revoked at least as long. It also forgets revocations that ran
// out more than the grace before Redis's clock: garbage collection is the
// one thing the Redis clock decides.
//
// KEYS: revokedIDs, changeLog. ARGV: member, until ms, kind, id, grace ms,
// log length.
var revokeScript = goredis.NewScript(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local t = redis.call('TIME')
local before = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. before)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'k', ARGV[3], 'id', ARGV[4], 't', ARGV[2])
return 1
`)

// Member prefixes and log kinds.
const (
	kindJTI   = "j"
	kindGrant = "g"
	kindUser  = "u"
)

// RevokeAccessToken records jti as revoked until exp and logs the change.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, exp time.Time) error {
	return s.revoke(ctx, "revoke access token", kindJTI, jti, exp)
}

// RevokeGrant records every token of grant as revoked until until.
func (s *Store) RevokeGrant(ctx context.Context, grant string, until time.Time) error {
	return s.revoke(ctx, "revoke grant", kindGrant, grant, until)
}

func (s *Store) revoke(ctx context.Context, op, kind, id string, until time.Time) error {
	keys := []string{s.keys.revokedIDs(), s.keys.changeLog()}
	err := revokeScript.Run(ctx, s.client, keys, kind+":"+id, until.UnixMilli(), kind, id,
		gcGrace.Milliseconds(), s.logLen).Err()
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

// AccessTokenRevoked reports whether jti was revoked with an exp after now
// (for tests and benchmarks: conformance.Store).
func (s *Store) AccessTokenRevoked(ctx context.Context, jti string, now time.Time) (bool, error) {
	until, err := s.client.ZScore(ctx, s.keys.revokedIDs(), kindJTI+":"+jti).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, unavailable("check access token revocation", err)
	}
	return now.Before(time.UnixMilli(int64(until))), nil
}
