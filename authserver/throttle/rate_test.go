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

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

func TestRateLimit(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	st := memory.New()
	r := &RateLimit{Counters: st, Limit: Limit{Max: 2, Window: time.Minute}, Scope: ScopeUserRate, Clock: clk}
	ctx := context.Background()
	// Judge reads the count of Counter, which a login adds to.
	check := func(subject string) error {
		c := r.Counter(subject)
		n, err := st.CountAttempts(ctx, c.Key, c.Window, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r.Judge(n)
	}
	for i := range 2 {
		if err := check("alice"); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		c := r.Counter("alice")
		if _, err := st.AddAttempt(ctx, c.Key, c.Window, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	wantExceeded(t, check("alice"), ScopeUserRate, 0)
	if err := check("bob"); err != nil {
		t.Fatalf("another subject: %v", err)
	}
	if r.Counter("alice") == r.Counter("bob") {
		t.Fatal("two subjects share a counter")
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
		if err := errors.Join(off.Judge(1<<40), off.Take(ctx, "x")); err != nil || off.Counter("x") != (store.Counter{}) {
			t.Fatalf("a rate limit that is off: %v, counter %v", err, off.Counter("x"))
		}
	}
}
