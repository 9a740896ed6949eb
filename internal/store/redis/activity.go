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
	"maps"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// The activity keys (see the package comment): {ll}, username → the ms of
// the last login; {tl}, username → the ms the throttle ends, with
// {tl}:limits, username → the limit, on the same slot. A user's entries
// are forgotten with its record; a throttle once it has ended.

// RecordLogin records at as username's last login: ZADD GT moves an entry
// forward only.
func (s *Store) RecordLogin(ctx context.Context, username string, at time.Time) error {
	_, err := one(ctx, s, func(b *batch) func() (struct{}, error) { return s.queueRecordLogin(ctx, b, username, at) })
	return err
}

func (s *Store) queueRecordLogin(ctx context.Context, b *batch, username string, at time.Time) func() (struct{}, error) {
	cmd := b.pipe.ZAddGT(ctx, s.keys.lastLogins(), goredis.Z{Score: float64(at.UnixMilli()), Member: username})
	return func() (struct{}, error) {
		if err := cmd.Err(); err != nil {
			return struct{}{}, unavailable("record login", err)
		}
		return struct{}{}, nil
	}
}

// recordThrottlesScript forgets the throttles that ended by now, then
// records each (username, until, limit) whose until is after now and
// later than the one recorded, and keeps both keys until the last
// throttle ends (plus a margin).
//
// KEYS: throttles, throttleLimits. ARGV: now ms, grace ms, then
// username, until ms, limit, for each throttle.
var recordThrottlesScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local ended = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE')
for _, name in ipairs(ended) do redis.call('HDEL', KEYS[2], name) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 3, #ARGV, 3 do
  if tonumber(ARGV[i + 1]) > now and redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[i + 1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  end
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  local at = tonumber(last[2]) + tonumber(ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], at)
  redis.call('PEXPIREAT', KEYS[2], at)
end
return 0
`)

// throttlesPerCall bounds the throttles one script call records, so that
// no call holds Redis for long; a flush's calls share one pipeline.
const throttlesPerCall = 500

// RecordThrottles records the throttles and forgets those that ended, in
// one round trip: one script call per throttlesPerCall throttles.
func (s *Store) RecordThrottles(ctx context.Context, throttles map[string]store.Throttle, now time.Time) error {
	names := slices.Sorted(maps.Keys(throttles))
	b := s.batch()
	var cmds []*goredis.Cmd
	for chunk := range slices.Chunk(names, throttlesPerCall) {
		args := make([]any, 0, 2+3*len(chunk))
		args = append(args, now.UnixMilli(), throttleGrace.Milliseconds())
		for _, name := range chunk {
			t := throttles[name]
			args = append(args, name, t.Until.UnixMilli(), t.Limit)
		}
		cmds = append(cmds, b.script(ctx, recordThrottlesScript, []string{s.keys.throttles(), s.keys.throttleLimits()}, args...))
	}
	if len(cmds) == 0 {
		// Nothing to record: the ended ones are still forgotten.
		cmds = append(cmds, b.script(ctx, recordThrottlesScript, []string{s.keys.throttles(), s.keys.throttleLimits()},
			now.UnixMilli(), throttleGrace.Milliseconds()))
	}
	b.exec(ctx)
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return unavailable("record throttles", err)
		}
	}
	return nil
}

// readThrottlesScript returns the throttles in force: username, until ms,
// limit, for each.
//
// KEYS: throttles, throttleLimits. ARGV: now ms.
var readThrottlesScript = goredis.NewScript(`
local t = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE', 'WITHSCORES')
local out = {}
for i = 1, #t, 2 do
  out[#out + 1] = t[i]
  out[#out + 1] = t[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], t[i]) or ''
end
return out
`)

// ReadActivity reads the logins after since and the throttles in force
// at now in one round trip.
func (s *Store) ReadActivity(ctx context.Context, since, now time.Time) (store.UserActivity, error) {
	const op = "read activity"
	b := s.batch()
	logins := b.pipe.ZRangeArgsWithScores(ctx, goredis.ZRangeArgs{
		Key: s.keys.lastLogins(), ByScore: true, Start: "(" + strconv.FormatInt(since.UnixMilli(), 10), Stop: "+inf",
	})
	throttles := b.script(ctx, readThrottlesScript, []string{s.keys.throttles(), s.keys.throttleLimits()}, now.UnixMilli())
	b.exec(ctx)
	zs, err := logins.Result()
	if err != nil {
		return store.UserActivity{}, unavailable(op, err)
	}
	a := store.UserActivity{Logins: make(map[string]time.Time, len(zs)), Throttles: map[string]store.Throttle{}}
	for _, z := range zs {
		name, _ := z.Member.(string)
		a.Logins[name] = time.UnixMilli(int64(z.Score))
	}
	res, err := throttles.StringSlice()
	if err != nil {
		return store.UserActivity{}, unavailable(op, err)
	}
	if len(res)%3 != 0 {
		return store.UserActivity{}, fmt.Errorf("%s: malformed script reply", op)
	}
	for i := 0; i < len(res); i += 3 {
		ms, err := strconv.ParseFloat(res[i+1], 64)
		if err != nil {
			return store.UserActivity{}, fmt.Errorf("%s: malformed script reply", op)
		}
		a.Throttles[res[i]] = store.Throttle{Until: time.UnixMilli(int64(ms)), Limit: res[i+2]}
	}
	return a, nil
}

// forgetActivity drops username's entries (its record is gone).
func (s *Store) forgetActivity(ctx context.Context, username string) error {
	pipe := s.client.Pipeline()
	pipe.ZRem(ctx, s.keys.lastLogins(), username)
	pipe.ZRem(ctx, s.keys.throttles(), username)
	pipe.HDel(ctx, s.keys.throttleLimits(), username)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("forget activity", err)
	}
	return nil
}
