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

package conformance

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testAssertionOnce: an assertion ID is accepted once until it expires,
// whoever asks, and IDs are independent.
func testAssertionOnce(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now()
	until := now.Add(time.Minute)
	for _, id := range []string{"client-a/j1", "client-b/j1", "odd {id}:%7B*"} {
		ok, err := s.UseAssertion(ctx, id, until, now)
		must(t, "UseAssertion", err)
		if !ok {
			t.Fatalf("first use of %q refused", id)
		}
		ok, err = s.UseAssertion(ctx, id, until, now.Add(time.Second))
		must(t, "UseAssertion again", err)
		if ok {
			t.Fatalf("replay of %q accepted", id)
		}
	}
}

// testAssertionConcurrent: of many concurrent uses of one ID, exactly one
// wins.
func testAssertionConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.UseAssertion(ctx, "client/j-race", now.Add(time.Minute), now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of 16 concurrent uses accepted, want 1", n)
	}
}
