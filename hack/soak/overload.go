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
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// overloadResult is what the overload saw.
type overloadResult struct {
	Rate    float64 // offered password grants per second
	Elapsed time.Duration
	Skipped int // due while the concurrency cap was reached
	Status  map[int]int
	// NoRetryAfter counts the 503s without a Retry-After.
	NoRetryAfter int
	OK, Refused  []time.Duration // latencies of the 200s and the 503s
	// RefusedWire are the 503s' times from the request written to the
	// first byte of the response.
	RefusedWire []time.Duration
	// Server are the replicas' histograms over the overload (summed), and
	// Own the generator's scheduler latency over it.
	Server  serverHistograms
	Own     histogram
	PeakRSS []int64 // each replica's VmHWM after the overload
	// HalfPeaks are each replica's largest sampled VmRSS in the first and
	// the second half of the overload.
	HalfPeaks [][2]int64
	Probe     probeResult
}

// probeResult is the concurrent user's logins.
type probeResult struct {
	Logins, Succeeded int
	Attempts          []int // attempts each successful login took
	Refusals          map[int]int
}

// runOverload offers o.overloadFactor × the capacity, from o.overloadUsers
// users over every source address and the three replicas, while the probe
// user logs in once a second from an address of its own, honouring
// Retry-After.
func runOverload(ctx context.Context, c *cluster, o options, cp capacity) (*overloadResult, error) {
	res := &overloadResult{Rate: o.overloadFactor * cp.PerSec, Status: map[int]int{}, Probe: probeResult{Refusals: map[int]int{}}}
	var mu sync.Mutex
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	probeClient := newClient(probeAddr)
	defer probeClient.CloseIdleConnections()
	wg.Go(func() { res.Probe = probe(pctx, c, o, probeClient) })
	wg.Go(func() { res.HalfPeaks = halfPeaks(pctx, c, o.overloadTime/2) })
	benchkit.Progress("overload: %v at %.1f logins/s (%.0f × the %.1f tokens/s capacity) from %d users and %d addresses, at most %d in flight",
		o.overloadTime, res.Rate, o.overloadFactor, cp.PerSec, o.overloadUsers, o.addrs, o.overloadCap)
	before, err := clusterHistograms(ctx, c)
	if err != nil {
		return nil, err
	}
	ownBefore := ownSchedLatency()
	start := time.Now()
	maxCalls := int(res.Rate*o.overloadTime.Seconds()) + 1
	res.Skipped = benchkit.OpenLoop(ctx, res.Rate, o.overloadTime, o.overloadCap, maxCalls, func(seq int) {
		r := c.login(ctx, seq, seq, loadUser(seq%o.overloadUsers), userPassword)
		_, ok := parseTokens(r)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ok:
			res.OK = append(res.OK, r.latency)
		case r.status == http.StatusServiceUnavailable:
			res.Refused = append(res.Refused, r.latency)
			res.RefusedWire = append(res.RefusedWire, r.wire)
			if r.retryAfter == "" {
				res.NoRetryAfter++
			}
		}
		res.Status[r.status]++
	})
	res.Elapsed = time.Since(start)
	res.Own = ownSchedLatency().add(ownBefore, -1)
	stop()
	wg.Wait()
	after, err := clusterHistograms(ctx, c)
	if err != nil {
		return nil, err
	}
	res.Server = after.add(before, -1)
	for _, s := range c.servers {
		m, err := benchkit.ReadMemory(s.PID())
		if err != nil {
			return nil, err
		}
		res.PeakRSS = append(res.PeakRSS, m.Peak)
	}
	benchkit.Progress("overload: %.1f tokens/s of goodput; probe %d of %d logins", float64(len(res.OK))/res.Elapsed.Seconds(), res.Probe.Succeeded, res.Probe.Logins)
	return res, ctx.Err()
}

// halfPeaks samples each replica's VmRSS every 100 ms until ctx ends, and
// returns the largest of the samples before half and of those after.
func halfPeaks(ctx context.Context, c *cluster, half time.Duration) [][2]int64 {
	peaks := make([][2]int64, len(c.servers))
	start := time.Now()
	for sleep(ctx, 100*time.Millisecond) {
		h := 0
		if time.Since(start) >= half {
			h = 1
		}
		for i, s := range c.servers {
			if m, err := benchkit.ReadMemory(s.PID()); err == nil {
				peaks[i][h] = max(peaks[i][h], m.RSS)
			}
		}
	}
	return peaks
}

// probeAddr is the probe user's own source address, apart from the load's.
var probeAddr = net.IPv4(127, 0, 0, 250)

// probe logs the probe user in once a second until ctx ends; a 503 is
// retried after its Retry-After, up to o.probeAttempts attempts.
func probe(ctx context.Context, c *cluster, o options, client *http.Client) probeResult {
	p := probeResult{Refusals: map[int]int{}}
	pc := &cluster{servers: c.servers, clients: []*http.Client{client}}
	for n := 0; ctx.Err() == nil; n++ {
		p.Logins++
		succeeded := false
		for attempt := 1; attempt <= o.probeAttempts && ctx.Err() == nil; attempt++ {
			r := pc.login(context.WithoutCancel(ctx), 0, n+attempt, probeUser, userPassword)
			if _, ok := parseTokens(r); ok {
				p.Succeeded++
				p.Attempts = append(p.Attempts, attempt)
				succeeded = true
				break
			}
			p.Refusals[r.status]++
			wait := time.Second
			if s, err := strconv.Atoi(r.retryAfter); err == nil && s >= 0 {
				wait = time.Duration(s) * time.Second
			}
			if !sleep(ctx, wait) {
				break
			}
		}
		if !succeeded && ctx.Err() != nil {
			p.Logins-- // cut off by the end of the overload
		}
		if !sleep(ctx, time.Second) {
			break
		}
	}
	return p
}

// sleep waits d, or reports false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
