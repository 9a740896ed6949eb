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
	"sync/atomic"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// capacity is the /token ceiling of the three replicas together.
type capacity struct {
	Workers  int
	OK       int
	Elapsed  time.Duration
	PerSec   float64 // successful password grants per second
	PeakRSS  []int64 // each replica's VmHWM after the phase
	Warm     time.Duration
	Measured time.Duration
}

// measureCapacity runs a closed loop of password grants over the replicas,
// as hack/bench's token phase does for one: 2 × cores + 2 clients, fewer
// than the hash workers plus queue of one replica, so nothing is refused,
// each request for a user no other is logging in as at that moment.
func measureCapacity(ctx context.Context, c *cluster, o options) (capacity, error) {
	cp := capacity{Workers: 2*runtime.GOMAXPROCS(0) + 2, Warm: 2 * time.Second, Measured: o.capacityTime}
	loop := func(d time.Duration) (int, error) {
		var ok, bad atomic.Int64
		var first atomic.Value
		benchkit.ClosedLoop(ctx, cp.Workers, d, 1_000_000, func(w, seq int) {
			i := w + seq*cp.Workers
			r := c.login(ctx, i, i, loadUser(i%o.users), userPassword)
			if _, good := parseTokens(r); good {
				ok.Add(1)
				return
			}
			bad.Add(1)
			first.CompareAndSwap(nil, r.String())
		})
		if bad.Load() > 0 {
			return 0, fmt.Errorf("%d logins failed in the closed loop; first: %v", bad.Load(), first.Load())
		}
		return int(ok.Load()), ctx.Err()
	}
	benchkit.Progress("capacity: warm-up %v, then %v of password grants, %d clients over %d replicas", cp.Warm, cp.Measured, cp.Workers, replicas)
	if _, err := loop(cp.Warm); err != nil {
		return cp, err
	}
	start := time.Now()
	n, err := loop(cp.Measured)
	if err != nil {
		return cp, err
	}
	cp.OK, cp.Elapsed = n, time.Since(start)
	cp.PerSec = float64(n) / cp.Elapsed.Seconds()
	for _, s := range c.servers {
		m, err := benchkit.ReadMemory(s.PID())
		if err != nil {
			return cp, err
		}
		cp.PeakRSS = append(cp.PeakRSS, m.Peak)
	}
	benchkit.Progress("capacity: %.1f tokens/s", cp.PerSec)
	return cp, nil
}
