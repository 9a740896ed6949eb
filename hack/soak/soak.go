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
	"strings"
	"sync"
	"time"

	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// Mirror gauges of each replica (authserver/metrics).
const (
	metricMirrorTokens   = "authstack_revocation_mirror_revoked_tokens"
	metricMirrorSessions = "authstack_revocation_mirror_revoked_sessions"
	metricMirrorUsers    = "authstack_revocation_mirror_users"
	metricHeapObjects    = "go_memstats_heap_objects"
)

// sample is the state of everything at one moment of the soak.
type sample struct {
	At         time.Duration // since the soak began
	RSS        []int64       // each replica's VmRSS
	Mirror     []float64     // each replica's revoked tokens + sessions
	Users      []float64     // each replica's mirror users
	Objects    []float64     // each replica's heap objects (live and not yet swept)
	RedisBytes int64         // used_memory
	RedisKeys  int64         // DBSIZE
	Live       int           // live sessions
	Held       int           // sessions whose records Redis keeps (storeGrace)
}

// soakResult is what the soak saw.
type soakResult struct {
	Rate    float64 // sessions (logins) started per second
	Skipped int
	Elapsed time.Duration
	Revoked int64
	Tally   *tally
	Samples []sample
	Changes int
	// Censuses of Redis by key kind, in the middle of the minute after
	// the warm-up and of the last minute (the windows the drift compares).
	AfterWarmup, End census
	// LogLength is the length of the revocation change log (a stream).
	LogLength int64
}

// runSoak runs the mix for o.duration, sampling every o.sample, and takes
// a census of Redis in the two windows the checks compare.
func runSoak(ctx context.Context, c *cluster, o options, cp capacity) (*soakResult, error) {
	m := &mix{c: c, o: o, t: newTally()}
	// The capacity is of whole sessions; the user changes' logins (hashes,
	// like a session's) come on top, so they are taken off the sessions
	// offered.
	res := &soakResult{Rate: max(o.load*cp.PerSec-churnLoginsPerChange/o.changeEvery.Seconds(), 0.1), Tally: m.t}
	ch, err := newChurn(ctx, m)
	if err != nil {
		return nil, err
	}
	benchkit.Progress("soak: %v at %.1f sessions/s (%.0f %% of the capacity, less the user changes' logins), each with %d+1 /verify and a refresh, 1 in %d revoked; a user change every %v",
		o.duration, res.Rate, 100*o.load, o.verifies, o.revokeEvery, o.changeEvery)
	start := time.Now()
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sampleErr, censusErr error
	wg.Go(func() { sampleErr = sampleUntil(sctx, c, m, start, o.sample, &res.Samples) })
	wg.Go(func() {
		censusErr = censusAt(sctx, c, start, []time.Duration{o.warmup + time.Minute/2, o.duration - time.Minute/2},
			[]*census{&res.AfterWarmup, &res.End})
	})
	wg.Go(func() { ch.run(sctx, ctx) })
	maxCalls := int(res.Rate*o.duration.Seconds()) + 1
	res.Skipped = benchkit.OpenLoop(ctx, res.Rate, o.duration, 1<<14, maxCalls, func(seq int) { m.session(ctx, seq) })
	res.Elapsed = time.Since(start)
	stop()
	wg.Wait()
	res.Revoked, res.Changes = m.revoked.Load(), ch.made
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if sampleErr != nil && !errors.Is(sampleErr, context.Canceled) {
		return nil, sampleErr
	}
	if censusErr != nil && !errors.Is(censusErr, context.Canceled) {
		return nil, censusErr
	}
	res.LogLength, err = c.rds.Client.XLen(ctx, redisstore.DefaultKeyPrefix+":{rev}:log").Result()
	return res, err
}

// censusAt takes a census of Redis into each of out at the time after
// start in the same place of at.
func censusAt(ctx context.Context, c *cluster, start time.Time, at []time.Duration, out []*census) error {
	for i, d := range at {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(d))):
		}
		t := time.Now()
		x, err := takeCensus(ctx, c.rds.Client)
		if err != nil {
			return err
		}
		*out[i] = x
		benchkit.Progress("redis census at %v (%v): used_memory %s, %d keys, sessions %s (%.0f B per session)",
			d, time.Since(t).Round(time.Millisecond), benchkit.MiB(x.UsedMemory), x.Keys, benchkit.MiB(x.sessionBytes()), x.bytesPerSession())
	}
	return nil
}

// sampleUntil appends a sample every interval until ctx ends.
func sampleUntil(ctx context.Context, c *cluster, m *mix, start time.Time, interval time.Duration, out *[]sample) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		s, err := takeSample(ctx, c, m)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		s.At = time.Since(start)
		*out = append(*out, s)
		if len(*out)%12 == 0 {
			benchkit.Progress("soak: %v, %d responses, %d unexpected, %d live sessions (%d held), Redis %s",
				s.At.Round(time.Second), m.t.total(), m.t.errors(), s.Live, s.Held, benchkit.MiB(s.RedisBytes))
		}
	}
}

func takeSample(ctx context.Context, c *cluster, m *mix) (sample, error) {
	var s sample
	s.Live, s.Held = m.book.count()
	var err error
	for _, srv := range c.servers {
		mem, err := benchkit.ReadMemory(srv.PID())
		if err != nil {
			return s, err
		}
		g, err := benchkit.ScrapeMetrics(ctx, srv.Ops+"/metrics", metricMirrorTokens, metricMirrorSessions, metricMirrorUsers, metricHeapObjects)
		if err != nil {
			return s, err
		}
		s.RSS = append(s.RSS, mem.RSS)
		s.Mirror = append(s.Mirror, g[metricMirrorTokens]+g[metricMirrorSessions])
		s.Users = append(s.Users, g[metricMirrorUsers])
		s.Objects = append(s.Objects, g[metricHeapObjects])
	}
	if s.RedisBytes, err = c.rds.UsedMemory(ctx); err != nil {
		return s, err
	}
	s.RedisKeys, err = c.rds.Client.DBSize(ctx).Result()
	return s, err
}

// keyKind is a key's kind: the name inside its hash tag up to the first
// colon, and the first part after the tag ("{rts}", "{rev}:log",
// "{attempts}:r").
func keyKind(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return key
	}
	tag, after, _ := strings.Cut(rest, "}")
	kind, _, _ := strings.Cut(tag, ":")
	kind = "{" + kind + "}"
	if part, _, _ := strings.Cut(strings.TrimPrefix(after, ":"), ":"); part != "" {
		kind += ":" + part
	}
	return kind
}
