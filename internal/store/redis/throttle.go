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

	"github.com/authstack/authstack/internal/store"
)

// addAttemptScript counts one attempt and sets the counter's expiry in one
// step, so no counter is ever left without one.
//
// KEYS: counter. ARGV: expiry ms.
var addAttemptScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return n
`)

// AddAttempt adds one to key's counter for the window containing now and
// returns the new count. The counter expires one window (plus a margin)
// after its window ends.
func (s *Store) AddAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, errors.New("add attempt: window must be positive")
	}
	return one(ctx, s, func(b *batch) func() (int64, error) { return s.queueAddAttempt(ctx, b, key, window, now) })
}

func (s *Store) queueAddAttempt(ctx context.Context, b *batch, key string, window time.Duration, now time.Time) func() (int64, error) {
	idx := store.WindowIndex(now, window)
	end := time.Unix(0, 0).Add(time.Duration(idx+1) * window)
	cmd := b.script(ctx, addAttemptScript, []string{s.keys.attempts(key, window, idx)}, expireAt(end, window+throttleGrace))
	return func() (int64, error) {
		n, err := cmd.Int64()
		if err != nil {
			return 0, unavailable("add attempt", err)
		}
		return n, nil
	}
}

// CountAttempts returns key's counter for the window containing now.
func (s *Store) CountAttempts(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, errors.New("count attempts: window must be positive")
	}
	return one(ctx, s, func(b *batch) func() (int64, error) { return s.queueCountAttempts(ctx, b, key, window, now) })
}

func (s *Store) queueCountAttempts(ctx context.Context, b *batch, key string, window time.Duration, now time.Time) func() (int64, error) {
	cmd := b.pipe.Get(ctx, s.keys.attempts(key, window, store.WindowIndex(now, window)))
	return func() (int64, error) {
		n, err := cmd.Int64()
		if errors.Is(err, goredis.Nil) {
			return 0, nil
		}
		if err != nil {
			return 0, unavailable("count attempts", err)
		}
		return n, nil
	}
}
