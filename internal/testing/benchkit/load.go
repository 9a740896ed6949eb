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

package benchkit

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ClosedLoop runs workers goroutines, each calling fn(worker, seq) again as
// soon as its previous call returned, until dur has passed, ctx ends or
// maxCalls calls have started in all. It returns when every call has
// returned.
func ClosedLoop(ctx context.Context, workers int, dur time.Duration, maxCalls int, fn func(worker, seq int)) {
	deadline := time.Now().Add(dur)
	var budget atomic.Int64
	budget.Store(int64(maxCalls))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil && time.Now().Before(deadline) && budget.Add(-1) >= 0; seq++ {
				fn(w, seq)
			}
		})
	}
	wg.Wait()
}

// OpenLoop calls fn(seq) at rate per second on a fixed schedule, whatever
// the calls take, for dur or until maxCalls calls were due; each call runs
// in its own goroutine, at most maxInFlight at once. A call due while the
// cap is reached is skipped: OpenLoop returns how many were. It returns
// when every call has returned.
func OpenLoop(ctx context.Context, rate float64, dur time.Duration, maxInFlight, maxCalls int, fn func(seq int)) (skipped int) {
	interval := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for seq := range maxCalls {
		due := time.Duration(seq) * interval
		if due >= dur {
			break
		}
		if wait := time.Until(start.Add(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			skipped++
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(seq)
		})
	}
	return skipped
}

// Percentile returns the p-th percentile (0..100) of ds, nearest rank; 0
// for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
