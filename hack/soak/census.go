//go:build linux

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

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	goredis "github.com/redis/go-redis/v9"
)

// sessionKinds are the key kinds (keyKind) whose memory the sessions Redis
// holds need: each session's hash, and the revoked sessions' and access
// tokens' entries in the revoked set and the change log (kept until an
// hour after they run out, as the session records are). Everything else
// (users, clients, throttle state, the users' session indexes, the key
// tables' share of other keys, Redis's own buffers and caches) must not
// grow with the run.
var sessionKinds = []string{"{rts}", "{rev}:ids", "{rev}:log"}

// kindCensus is what Redis holds of one key kind.
type kindCensus struct {
	Keys  int   // how many keys
	NoTTL int   // of them without a TTL
	Bytes int64 // MEMORY USAGE (SAMPLES 0: every element) and the allocator's rounding, summed
}

// census is Redis's memory at one moment, by key kind.
type census struct {
	UsedMemory int64 // MEMORY STATS total.allocated (INFO used_memory)
	Clients    int64 // MEMORY STATS clients.normal: the clients' buffers
	Keys       int64 // MEMORY STATS keys.count
	// KeyTables is the key tables' memory MEMORY USAGE does not count:
	// the main table's buckets and the expires table.
	KeyTables int64
	Kinds     map[string]kindCensus
}

// How Redis 7.0 counts, and what jemalloc allocates: MEMORY USAGE counts
// a key's entry in the main table at mainEntry bytes (a dictEntry and
// its metadata, as MEMORY STATS overhead.hashtable.main does), a
// hashtable-encoded hash's field at a dictEntry's 24 bytes and its table
// at sizeof(dict); jemalloc allocates each in the next size class,
// entryRounding more, and the expires table's entry (24 bytes, counted in
// overhead.hashtable.expires) likewise. TestCensus holds the sum to
// used_memory's growth on a quiet Redis.
const (
	mainEntry     = 40
	entryRounding = 8
)

// takeCensus walks every key: its kind, its TTL and its MEMORY USAGE (and
// a session hash's encoding and fields), in pipelines of a SCAN batch
// each, then reads MEMORY STATS.
func takeCensus(ctx context.Context, rdb *goredis.Client) (census, error) {
	c := census{Kinds: map[string]kindCensus{}}
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			return c, err
		}
		if err := c.add(ctx, rdb, keys); err != nil {
			return c, err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	stats, err := rdb.Do(ctx, "MEMORY", "STATS").Result()
	if err != nil {
		return c, err
	}
	flat := map[string]int64{}
	flattenStats("", stats, flat)
	c.Keys = flat["keys.count"]
	c.KeyTables = flat["db.0.overhead.hashtable.main"] - mainEntry*c.Keys + flat["db.0.overhead.hashtable.expires"]
	c.UsedMemory, c.Clients = flat["total.allocated"], flat["clients.normal"]
	return c, nil
}

// add counts keys, in one pipeline. A key that expired meanwhile answers
// nil: counted with its kind, without bytes.
func (c *census) add(ctx context.Context, rdb *goredis.Client, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := rdb.Pipeline()
	ttls := make([]*goredis.DurationCmd, len(keys))
	sizes := make([]*goredis.IntCmd, len(keys))
	encodings := make([]*goredis.StringCmd, len(keys))
	fields := make([]*goredis.IntCmd, len(keys))
	for i, k := range keys {
		ttls[i] = pipe.PTTL(ctx, k)
		sizes[i] = pipe.MemoryUsage(ctx, k, 0)
		if keyKind(k) == "{rts}" {
			encodings[i] = pipe.ObjectEncoding(ctx, k)
			fields[i] = pipe.HLen(ctx, k)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return err
	}
	for i, k := range keys {
		kc := c.Kinds[keyKind(k)]
		kc.Keys++
		bytes := sizes[i].Val()
		if bytes > 0 {
			bytes += entryRounding
		}
		switch ttl := ttls[i].Val(); {
		case ttls[i].Err() != nil:
		case ttl < 0:
			kc.NoTTL++
		default:
			bytes += entryRounding
		}
		if encodings[i] != nil && encodings[i].Val() == "hashtable" {
			bytes += entryRounding * (fields[i].Val() + 1) // and the hash's own table
		}
		kc.Bytes += bytes
		c.Kinds[keyKind(k)] = kc
	}
	return nil
}

// flattenStats turns MEMORY STATS (a map in RESP3, name/value pairs in
// RESP2; db.N nested) into name → integer, nested names joined with ".".
func flattenStats(prefix string, v any, out map[string]int64) {
	put := func(k any, val any) {
		name := prefix + fmt.Sprint(k)
		switch x := val.(type) {
		case int64:
			out[name] = x
		case map[any]any, []any:
			flattenStats(name+".", x, out)
		}
	}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			put(k, val)
		}
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			put(x[i], x[i+1])
		}
	}
}

// sessionBytes is what the sessions Redis holds take: their kinds' MEMORY
// USAGE and those keys' share of the key tables.
func (c census) sessionBytes() int64 {
	var b int64
	var keys int
	for _, k := range sessionKinds {
		b += c.Kinds[k].Bytes
		keys += c.Kinds[k].Keys
	}
	if c.Keys > 0 {
		b += c.KeyTables * int64(keys) / c.Keys
	}
	return b
}

// otherBytes is used_memory less what the sessions take: what must not grow.
func (c census) otherBytes() int64 { return c.UsedMemory - c.sessionBytes() }

// bytesPerSession is the sessions' memory per session hash.
func (c census) bytesPerSession() float64 {
	return float64(c.sessionBytes()) / float64(max(c.Kinds["{rts}"].Keys, 1))
}

// redisGrowth judges two censuses, after the warm-up (a) and at the end
// (b): the memory besides the sessions' must not grow by more than limit
// of a's used_memory, and a session must not cost more at the end than
// after the warm-up (by more than limit): the two ways Redis could grow
// beyond what the sessions it holds need.
func redisGrowth(a, b census, limit float64) (other, perSession float64, ok bool) {
	other = float64(b.otherBytes()-a.otherBytes()) / float64(max(a.UsedMemory, 1))
	perSession = b.bytesPerSession()/max(a.bytesPerSession(), 1) - 1
	return other, perSession, other <= limit && perSession <= limit
}

// kindsSummary lists the kinds of two censuses: keys, bytes and bytes per
// key at each.
func kindsSummary(a, b census) []string {
	kinds := map[string]bool{}
	for k := range a.Kinds {
		kinds[k] = true
	}
	for k := range b.Kinds {
		kinds[k] = true
	}
	var rows []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		x, y := a.Kinds[k], b.Kinds[k]
		mark := ""
		if slices.Contains(sessionKinds, k) {
			mark = " (sessions)"
		}
		rows = append(rows, fmt.Sprintf("| `%s`%s | %d → %d | %d | %s → %s | %s → %s |", k, mark, x.Keys, y.Keys, y.NoTTL,
			kib(x.Bytes), kib(y.Bytes), perKey(x), perKey(y)))
	}
	return rows
}

func perKey(k kindCensus) string {
	if k.Keys == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f B", float64(k.Bytes)/float64(k.Keys))
}

func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
