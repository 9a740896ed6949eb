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
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// GetEpoch returns the epoch marker, or store.ErrNotFound.
func (s *Store) GetEpoch(ctx context.Context) (string, error) {
	return one(ctx, s, func(b *batch) func() (string, error) { return s.queueGetEpoch(ctx, b) })
}

func (s *Store) queueGetEpoch(ctx context.Context, b *batch) func() (string, error) {
	cmd := b.pipe.Get(ctx, s.keys.epoch())
	return func() (string, error) {
		v, err := cmd.Result()
		if errors.Is(err, goredis.Nil) {
			return "", fmt.Errorf("get epoch: %w", store.ErrNotFound)
		}
		if err != nil {
			return "", unavailable("get epoch", err)
		}
		return v, nil
	}
}

// InitEpoch sets the marker with SET NX GET (one atomic command) and returns
// the marker in place.
func (s *Store) InitEpoch(ctx context.Context, value string) (string, error) {
	if value == "" {
		return "", fmt.Errorf("init epoch: empty value")
	}
	old, err := s.client.SetArgs(ctx, s.keys.epoch(), value, goredis.SetArgs{Mode: "NX", Get: true}).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return value, nil // there was none: ours is set
	case err != nil:
		return "", unavailable("init epoch", err)
	}
	return old, nil
}

// replaceEpochScript is a compare-and-set of the marker.
//
// KEYS: epoch. ARGV: old, next.
var replaceEpochScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
`)

// ReplaceEpoch sets the marker to next if it is old.
func (s *Store) ReplaceEpoch(ctx context.Context, old, next string) (string, error) {
	if next == "" {
		return "", fmt.Errorf("replace epoch: empty value")
	}
	cur, err := replaceEpochScript.Run(ctx, s.client, []string{s.keys.epoch()}, old, next).Text()
	if err != nil {
		return "", unavailable("replace epoch", err)
	}
	return cur, nil
}
