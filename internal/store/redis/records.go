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
	"encoding/json"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// listBatch bounds the GETs sent in one pipeline by listIndexed.
const listBatch = 256

// queueGetJSON queues the read of the JSON record at key. A missing key is
// store.ErrNotFound.
func queueGetJSON[T any](ctx context.Context, b *batch, op, key string) func() (T, error) {
	cmd := b.pipe.Get(ctx, key)
	return func() (T, error) {
		var v T
		data, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			return v, fmt.Errorf("%s: %w", op, store.ErrNotFound)
		}
		if err != nil {
			return v, unavailable(op, err)
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return v, fmt.Errorf("%s: decode: %w", op, err)
		}
		return v, nil
	}
}

// putIndexed writes the JSON record at key and adds member to the set at
// index. The name goes in first so that a record is never unlisted.
func putIndexed(ctx context.Context, c goredis.UniversalClient, op, index, member, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	if err := c.SAdd(ctx, index, member).Err(); err != nil {
		return unavailable(op, err)
	}
	if err := c.Set(ctx, key, data, 0).Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

// deleteIndexed removes the record at key, then member from the set.
func deleteIndexed(ctx context.Context, c goredis.UniversalClient, op, index, member, key string) error {
	if err := c.Del(ctx, key).Err(); err != nil {
		return unavailable(op, err)
	}
	if err := c.SRem(ctx, index, member).Err(); err != nil {
		return unavailable(op, err)
	}
	return nil
}

// listIndexed returns the records of every member of the set at index,
// skipping members whose record is gone. key maps a member to its key.
// The GETs are pipelined per batch; on a cluster, go-redis splits each
// pipeline by node.
func listIndexed[T any](ctx context.Context, c goredis.UniversalClient, op, index string, key func(string) string) ([]T, error) {
	members, err := c.SMembers(ctx, index).Result()
	if err != nil {
		return nil, unavailable(op, err)
	}
	out := make([]T, 0, len(members))
	for len(members) > 0 {
		batch := members[:min(listBatch, len(members))]
		members = members[len(batch):]

		pipe := c.Pipeline()
		cmds := make([]*goredis.StringCmd, len(batch))
		for i, m := range batch {
			cmds[i] = pipe.Get(ctx, key(m))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return nil, unavailable(op, err)
		}
		for _, cmd := range cmds {
			data, err := cmd.Bytes()
			if errors.Is(err, goredis.Nil) {
				continue // deleted between SMEMBERS and GET, or a crash
			}
			if err != nil {
				return nil, unavailable(op, err)
			}
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				return nil, fmt.Errorf("%s: decode: %w", op, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}
