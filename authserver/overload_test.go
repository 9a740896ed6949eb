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

package authserver_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/password"
)

// Past the hashing pool's queue, /token answers 503 with Retry-After at
// once instead of queueing; nothing fails with a 500.
func TestOverloadIsRefusedWith503(t *testing.T) {
	heavy := password.Params{Memory: 16 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.HashParams = heavy
		c.HashPool = password.PoolOptions{Workers: 1, Queue: 1, MaxWait: time.Minute}
		// As many as the burst: attempts in flight count, so a smaller limit
		// would refuse part of the burst with 429 instead.
		c.PerUserIP.Max, c.PerIP.Max = 24, 24
	}))
	h, err := heavy.Hash([]byte(alicePassword))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := ts.store.GetUser(t.Context(), "alice")
	u.PasswordHash = h
	if err := ts.store.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	const n = 24
	var wg sync.WaitGroup
	type result struct {
		code       int
		retryAfter string
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
			results <- result{rec.Code, rec.Header().Get("Retry-After")}
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	counts := map[int]int{}
	for r := range results {
		counts[r.code]++
		if r.code == http.StatusServiceUnavailable && r.retryAfter == "" {
			t.Error("503 without Retry-After")
		}
	}
	if counts[http.StatusOK] < 1 || counts[http.StatusServiceUnavailable] < 1 || counts[http.StatusOK]+counts[http.StatusServiceUnavailable] != n {
		t.Fatalf("outcomes %v: want some 200s, some 503s and nothing else", counts)
	}
	// Neither the successes nor the refusals counted as failures: the whole
	// budget of 24 failures is still there, and the 25th is refused.
	for i := 0; i < 24; i++ {
		if rec := ts.token("grant_type", "password", "username", "alice", "password", "wrong"); rec.Code != http.StatusBadRequest {
			t.Fatalf("failure %d after the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if rec := ts.token("grant_type", "password", "username", "alice", "password", "wrong"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("25th failure: %d", rec.Code)
	}
}
