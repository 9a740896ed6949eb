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
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// capacity is the ceiling of the three replicas together: of password
// grants for the overload, of whole sessions of the mix for the soak.
type capacity struct {
	Unit     string // what PerSec counts
	Workers  int
	PerSec   float64   // password grants (or sessions) per second: the least window's
	Windows  []float64 // each measured window's rate
	PeakRSS  []int64   // each replica's VmHWM after the phase
	Warm     time.Duration
	Measured time.Duration
}

// measureCapacity runs a closed loop over the replicas, as hack/bench's
// token phase does for one: 2 × cores + 2 clients, fewer than the hash
// workers plus queue of one replica, so nothing is refused, each for a
// user no other is logging in as at that moment. For the overload, of
// password grants (its goal is against the /token ceiling); for the soak,
// of the mix's sessions without the pauses between their steps (login,
// /verify, refresh, revocation: mix.session), so that the soak's share is
// of the capacity of the whole mix, not of its logins alone.
func measureCapacity(ctx context.Context, c *cluster, o options) (capacity, error) {
	cp := capacity{Unit: "password grants", Workers: 2*runtime.GOMAXPROCS(0) + 2, Warm: 2 * time.Second, Measured: o.capacityTime}
	var op func(i int) (bool, string)
	if o.overload {
		op = func(i int) (bool, string) {
			r := c.login(ctx, i, i, loadUser(i%o.users), userPassword)
			_, good := parseTokens(r)
			return good, r.String()
		}
	} else {
		cp.Unit = "sessions"
		mo := o
		mo.think = 0
		m := &mix{c: c, o: mo, t: newTally()}
		op = func(i int) (bool, string) {
			m.session(ctx, i)
			if m.t.errors() == 0 {
				return true, ""
			}
			m.t.mu.Lock()
			defer m.t.mu.Unlock()
			return false, strings.Join(m.t.examples, "; ")
		}
	}
	loop := func(d time.Duration) (int, error) {
		var ok, bad atomic.Int64
		var first atomic.Value
		benchkit.ClosedLoop(ctx, cp.Workers, d, 1_000_000, func(w, seq int) {
			if good, what := op(w + seq*cp.Workers); !good {
				bad.Add(1)
				first.CompareAndSwap(nil, what)
				return
			}
			ok.Add(1)
		})
		if bad.Load() > 0 {
			return 0, fmt.Errorf("%d %s failed in the closed loop; first: %v", bad.Load(), cp.Unit, first.Load())
		}
		return int(ok.Load()), ctx.Err()
	}
	benchkit.Progress("capacity: warm-up %v, then %v of %s, %d clients over %d replicas", cp.Warm, cp.Measured, cp.Unit, cp.Workers, replicas)
	if _, err := loop(cp.Warm); err != nil {
		return cp, err
	}
	// The soak must run below what the cores sustain: its capacity is the
	// least of three windows, since a shared machine's cores come and go
	// and 80 % of a quiet window's figure can be more than a busier
	// minute gives (the hash queue then answers "server busy"). The
	// overload's goals are against the ceiling: one window's mean, not a
	// low one that would flatter its goodput.
	windows := 1
	if !o.overload {
		windows = 3
	}
	for range windows {
		start := time.Now()
		n, err := loop(cp.Measured)
		if err != nil {
			return cp, err
		}
		cp.Windows = append(cp.Windows, float64(n)/time.Since(start).Seconds())
	}
	cp.PerSec = slices.Min(cp.Windows)
	for _, s := range c.servers {
		m, err := benchkit.ReadMemory(s.PID())
		if err != nil {
			return cp, err
		}
		cp.PeakRSS = append(cp.PeakRSS, m.Peak)
	}
	benchkit.Progress("capacity: %.1f %s/s (windows: %s)", cp.PerSec, cp.Unit, rates(cp.Windows))
	return cp, nil
}
