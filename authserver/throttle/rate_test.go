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

package throttle

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/store/memory"
)

func TestRateLimit(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	r := &RateLimit{Counters: memory.New(), Limit: Limit{Max: 2, Window: time.Minute}, Scope: ScopeUserRate, Clock: clk}
	ctx := context.Background()
	for i := range 2 {
		if err := r.Check(ctx, "alice"); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if err := r.Count(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	wantExceeded(t, r.Check(ctx, "alice"), ScopeUserRate, 0)
	if err := r.Check(ctx, "bob"); err != nil {
		t.Fatalf("another subject: %v", err)
	}
	// Take counts and refuses past the limit.
	r.Scope = ScopeClientRate
	for i := range 2 {
		if err := r.Take(ctx, "billing"); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	wantExceeded(t, r.Take(ctx, "billing"), ScopeClientRate, 0)
	clk.Step(time.Minute)
	if err := r.Take(ctx, "billing"); err != nil {
		t.Fatalf("next window: %v", err)
	}
	// Off, or absent, it counts nothing and needs no store.
	for _, off := range []*RateLimit{nil, {Limit: Limit{Window: time.Minute}}} {
		if err := errors.Join(off.Check(ctx, "x"), off.Count(ctx, "x"), off.Take(ctx, "x")); err != nil {
			t.Fatalf("a rate limit that is off: %v", err)
		}
	}
}
