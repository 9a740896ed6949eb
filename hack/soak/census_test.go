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
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// The census counts a real Redis's keys by kind, with their TTLs and
// memory, and reads the key tables and used_memory from MEMORY STATS.
func TestCensus(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found on PATH (%v); make test installs it (hack/ensure-test-deps.sh)", err)
	}
	t.Cleanup(benchkit.KillAll)
	r, err := benchkit.StartRedis(t.Context(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	ctx := t.Context()
	// Redis allocates a latency histogram for each command the first
	// time it runs: run each once before the baseline.
	if err := r.Client.HSet(ctx, "warm", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{r.Client.PExpire(ctx, "warm", time.Hour).Err(), r.Client.Set(ctx, "warm", "v", 0).Err(), r.Client.Del(ctx, "warm").Err()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	before := settled(t, r)
	// Hashes shaped like sessions: eight fields, one longer than a
	// listpack value may be, so hashtable-encoded.
	for i := range 5000 { // more than one SCAN batch
		key := fmt.Sprintf("authstack:{rts:%d}", i)
		if err := r.Client.HSet(ctx, key, "data", strings.Repeat("x", 200), "gen", 1, "th", strings.Repeat("a", 64),
			"te", 1764000000000, "ae", 1764000000000, "rev", 0, "rlw", 1, "rlc", 2).Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Client.PExpire(ctx, key, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Client.Set(ctx, "authstack:{user:alice}", "{}", 0).Err(); err != nil {
		t.Fatal(err)
	}
	written := settled(t, r)
	c, err := takeCensus(ctx, r.Client)
	if err != nil {
		t.Fatal(err)
	}
	rts, users := c.Kinds["{rts}"], c.Kinds["{user}"]
	if rts.Keys != 5000 || rts.NoTTL != 0 || users.Keys != 1 || users.NoTTL != 1 {
		t.Fatalf("kinds = %+v", c.Kinds)
	}
	// Each hash holds 200 bytes of data at least; MEMORY USAGE counts them.
	if rts.Bytes < 5000*200 || users.Bytes <= 0 {
		t.Fatalf("bytes: {rts} %d, {user} %d", rts.Bytes, users.Bytes)
	}
	used, err := r.UsedMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys != 5001 || c.KeyTables <= 0 || c.UsedMemory < used*99/100 || c.UsedMemory > used*101/100 {
		t.Fatalf("census: %d keys, key tables %d, used_memory %d (INFO says %d)", c.Keys, c.KeyTables, c.UsedMemory, used)
	}
	// What the census counts is what the keys took: within 1 % of
	// used_memory's growth on this quiet Redis (read before the census,
	// whose pipelines grow the client's buffers). This holds the
	// accounting of entries and rounding to the Redis the tests run.
	counted := c.KeyTables
	for _, k := range c.Kinds {
		counted += k.Bytes
	}
	if grew := written - before; counted < grew*99/100 || counted > grew*101/100 {
		t.Fatalf("the census counts %d bytes, used_memory grew by %d (%+.1f %%)", counted, grew, 100*(float64(counted)/float64(grew)-1))
	}
	if s := c.sessionBytes(); s < rts.Bytes || s >= c.UsedMemory {
		t.Fatalf("session bytes %d, of used_memory %d", s, c.UsedMemory)
	}
}

// Redis may grow with the sessions it holds, and only with them: memory
// besides the sessions' that grows, or a session that costs more at the
// end, fails the check.
func TestRedisGrowth(t *testing.T) {
	at := func(used int64, sessions int, perSession int64) census {
		return census{UsedMemory: used, Keys: int64(sessions), Kinds: map[string]kindCensus{
			"{rts}": {Keys: sessions, Bytes: int64(sessions) * perSession},
		}}
	}
	base := at(10<<20, 6000, 1000)
	for name, tc := range map[string]struct {
		end  census
		pass bool
	}{
		"sessions grow":          {at(10<<20+18000*1000, 24000, 1000), true},
		"something else grows":   {at(10<<20+18000*1000+2<<20, 24000, 1000), false},
		"a session costs more":   {at(10<<20+24000*1100-6000*1000, 24000, 1100), false},
		"sessions expire":        {at(10<<20-3000*1000, 3000, 1000), true},
		"something else shrinks": {at(9<<20, 6000, 1000), true},
	} {
		other, per, ok := redisGrowth(base, tc.end, goalRedisGrowth)
		if ok != tc.pass {
			t.Errorf("%s: growth %+.3f, per session %+.3f: ok = %v, want %v", name, other, per, ok, tc.pass)
		}
	}
}

// settled is used_memory once it reads the same twice 200 ms apart (at
// most 5 s): a key table's incremental rehash (serverCron) has ended.
func settled(t *testing.T, r *benchkit.Redis) int64 {
	t.Helper()
	var last int64 = -1
	for range 25 {
		used, err := r.UsedMemory(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if used == last {
			return used
		}
		last = used
		time.Sleep(200 * time.Millisecond)
	}
	return last
}
