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
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// Goals (issue 15, part 4).
const (
	goalRSSDrift         = 0.05 // growth of each replica's mean RSS, last minute over the minute after the warm-up
	goalRedisGrowth      = 0.05 // growth of Redis memory beyond the live sessions', as a share of used_memory after the warm-up
	goalMirrorGrowth     = 0.10 // growth of each mirror's mean size, last minute over the minute after the warm-up
	goalGoodput          = 0.9  // overload goodput ÷ capacity
	goalRefusalP99       = 100 * time.Millisecond
	goalSuccessP99Factor = 2 // p99 of the overload's successes ≤ this × the hash-queue timeout
)

// mirrorHold is how long a replica's mirror holds a revoked session: the
// access-token lifetime, the clock-skew leeway (--clock-skew, 5 s) and the
// session margin of authserver/session (1 min).
func mirrorHold(o options) time.Duration { return o.accessTTL + 5*time.Second + time.Minute }

type report struct {
	opts         options
	started      time.Time
	took         time.Duration
	cores        int
	load0, load1 string
	capacity     capacity
	soak         *soakResult
	overload     *overloadResult
	checks       []check
}

type check struct {
	name, goal, figure string
	ok                 bool
}

func (r *report) add(name, goal, figure string, ok bool) {
	r.checks = append(r.checks, check{name, goal, figure, ok})
}

func (r *report) failed() bool {
	for _, c := range r.checks {
		if !c.ok {
			return true
		}
	}
	return false
}

func (r *report) write(w io.Writer) {
	if r.soak != nil {
		r.checkSoak()
	}
	if r.overload != nil {
		r.checkOverload()
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	mode := "Soak"
	if r.overload != nil {
		mode = "Overload"
	}
	p("## %s (make %s), %s", mode, map[bool]string{false: "soak", true: "soak-overload"}[r.overload != nil], r.started.UTC().Format("2006-01-02 15:04 UTC"))
	p("")
	p("%d cores, shared; load average %s at the start, %s at the end; took %v. Three `authstack server` replicas on one redis-server, on loopback; load from %d source addresses.",
		r.cores, r.load0, r.load1, r.took.Round(time.Second), r.opts.addrs)
	p("")
	p("Capacity of the three replicas (closed loop of %s, %d clients, %d × %v, the least window's): **%.1f %s/s** (windows: %s).", r.capacity.Unit, r.capacity.Workers, len(r.capacity.Windows), r.capacity.Measured, r.capacity.PerSec, r.capacity.Unit, rates(r.capacity.Windows))
	p("")
	p("| Check | Goal | Measured | |")
	p("|---|---|---|---|")
	for _, c := range r.checks {
		p("| %s | %s | %s | %s |", c.name, c.goal, c.figure, map[bool]string{true: "met", false: "**not met**"}[c.ok])
	}
	p("")
	if r.soak != nil {
		r.writeSoak(p)
	}
	if r.overload != nil {
		r.writeOverload(p)
	}
}

// window is the samples from..to after the soak began.
func window(ss []sample, from, to time.Duration) []sample {
	var out []sample
	for _, s := range ss {
		if s.At >= from && s.At < to {
			out = append(out, s)
		}
	}
	return out
}

func mean(ss []sample, f func(sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	t := 0.0
	for _, s := range ss {
		t += f(s)
	}
	return t / float64(len(ss))
}

// windows are the minute after the warm-up and the last minute.
func (r *report) windows() (first, last []sample) {
	s := r.soak
	return window(s.Samples, r.opts.warmup, r.opts.warmup+time.Minute), window(s.Samples, s.Elapsed-time.Minute, s.Elapsed+time.Minute)
}

func (r *report) checkSoak() {
	s := r.soak
	errs, total := s.Tally.errors(), s.Tally.total()
	r.add("Unexpected responses", "0", fmt.Sprintf("%d of %d, of them %d 503 \"server busy\" (the hash pool: less CPU than the capacity measured); %d sessions due, %d skipped at the in-flight cap",
		errs, total, s.Tally.busy(), int(s.Rate*s.Elapsed.Seconds()), s.Skipped), errs == 0 && s.Skipped == 0)
	first, last := r.windows()
	if len(first) == 0 || len(last) == 0 {
		r.add("Samples", "one minute after the warm-up and a last minute", fmt.Sprintf("%d samples", len(s.Samples)), false)
		return
	}
	// RSS holds the argon2id blocks, one per hash worker at most (the
	// pool bounds them), and the runtime keeps what the largest heap took
	// (MADV_FREE): one more block held at once late in the run steps RSS
	// by 19 MiB and stays, a plateau the pool bounds, not a leak. Growth
	// beyond 5 % therefore passes only when it is at most the pool's
	// blocks and the heap's objects did not grow (a leak of anything but
	// argon2id blocks, a few objects each, grows them); a leak of the
	// blocks themselves passes the pool's bound within minutes.
	pool := r.hashPoolBytes()
	for i := range replicas {
		rss := func(x sample) float64 { return float64(x.RSS[i]) }
		objs := func(x sample) float64 { return x.Objects[i] }
		a, b := mean(first, rss), mean(last, rss)
		oa, ob := mean(first, objs), mean(last, objs)
		plateau := b-a <= pool && ob <= (1+goalRSSDrift)*oa
		r.add(fmt.Sprintf("RSS drift, replica %d", i), fmt.Sprintf("≤ %.0f %%, or at most the hash pool's argon2id blocks (%s) with the heap's objects ≤ %.0f %%", 100*goalRSSDrift, benchkit.MiB(int64(pool)), 100*goalRSSDrift),
			fmt.Sprintf("%+.1f %% (%s → %s); heap objects %+.1f %%", 100*(b/a-1), benchkit.MiB(int64(a)), benchkit.MiB(int64(b)), 100*(ob/max(oa, 1)-1)),
			b/a-1 <= goalRSSDrift || plateau)
	}
	r.checkRedis()
	revRate := float64(s.Revoked) / s.Elapsed.Seconds()
	for i := range replicas {
		m := func(x sample) float64 { return x.Mirror[i] }
		a, b := mean(first, m), mean(last, m)
		r.add(fmt.Sprintf("Revocation mirror size, replica %d (revoked tokens + sessions)", i),
			fmt.Sprintf("growth ≤ %.0f %% (the warm-up outlasts the %v a revocation is held)", 100*goalMirrorGrowth, mirrorHold(r.opts)),
			fmt.Sprintf("%+.1f %% (%.0f → %.0f; the mix revoked %.2f sessions/s)", 100*(b/max(a, 1)-1), a, b, revRate),
			b <= (1+goalMirrorGrowth)*a+16)
	}
}

// checkRedis compares Redis's memory besides the sessions' in the two
// censuses, and what a session costs in each.
func (r *report) checkRedis() {
	// What the sessions Redis holds need is counted, not estimated: the
	// censuses sum MEMORY USAGE by key kind (census.go).
	a, b := r.soak.AfterWarmup, r.soak.End
	if a.UsedMemory == 0 || b.UsedMemory == 0 {
		r.add("Redis censuses", "after the warm-up and in the last minute", "not taken (the run ended first)", false)
		return
	}
	other, perSession, ok := redisGrowth(a, b, goalRedisGrowth)
	r.add("Redis memory beyond the sessions' (used_memory − the session keys' memory)",
		fmt.Sprintf("growth ≤ %.0f %% of used_memory, and bytes per session ≤ +%.0f %%", 100*goalRedisGrowth, 100*goalRedisGrowth),
		fmt.Sprintf("%+.1f %% (%s → %s; used_memory %s → %s; session hashes %d → %d at %.0f → %.0f B each, revoked entries and log included; %+.1f %% per session)",
			100*other, benchkit.MiB(a.otherBytes()), benchkit.MiB(b.otherBytes()), benchkit.MiB(a.UsedMemory), benchkit.MiB(b.UsedMemory),
			a.Kinds["{rts}"].Keys, b.Kinds["{rts}"].Keys, a.bytesPerSession(), b.bytesPerSession(), 100*perSession),
		ok)
}

// hashPoolBytes is the argon2id memory the replicas' hash pool can hold at
// once: a block per worker (GOMAXPROCS workers by default, the cores here).
func (r *report) hashPoolBytes() float64 {
	return float64(r.cores) * float64(password.DefaultParams.Memory) * 1024
}

// managerNote says what the manager does in the soak: nothing, or with
// -manager serve the AuthUsers of its own namespace.
func managerNote(o options) string {
	if o.manager {
		return "; with -manager it runs, on the same Redis, serving only the AuthUsers of namespace " + observedNamespace
	}
	return ", and does not run"
}

func (r *report) writeSoak(p func(string, ...any)) {
	s, o := r.soak, r.opts
	p("### The mix")
	p("")
	p("%v at %.1f sessions/s (%.0f %% of the capacity of whole sessions, less the user changes' %.0f logins per change). A session: a password grant for one of %d users on one replica, after %v %d × `/verify` on the replicas in turn, after %v a refresh on another replica and a `/verify` of its token; one session in %d is then revoked on its first replica (the refresh token and the access token alternately) and checked refused on the others (`/verify` polled until 401, at most %v; the refresh grant refused with invalid_grant). Every %v one of %d other users changes (password change, disable, re-enable in turn), written to Redis as the manager writes it (`records.User`, then the store's `PutUser`; the manager does not write them%s), and checked on the replicas. The replicas run with `--access-token-ttl %v --refresh-token-ttl %v` so that sessions and revocations expire during the run.",
		s.Elapsed.Round(time.Second), s.Rate, 100*o.load, churnLoginsPerChange, o.users, o.think, o.verifies, o.think, o.revokeEvery, propagationBound, o.changeEvery, o.churnUsers, managerNote(o), o.accessTTL, o.refreshTTL)
	p("")
	p("%d sessions revoked, %d user changes. Warm-up: the first %v; drift compares the mean of the last minute with the mean of the minute after the warm-up, and Redis a census in the middle of each (every key's kind, TTL and `MEMORY USAGE … SAMPLES 0`, and the key tables from `MEMORY STATS`).", s.Revoked, s.Changes, o.warmup)
	p("")
	p("| Response | Count | p50 | p99 |")
	p("|---|---|---|---|")
	t := s.Tally
	for _, k := range slices.Sorted(maps.Keys(t.expected)) {
		op, _, _ := strings.Cut(k, ": ")
		lat := t.latency[op]
		p("| %s | %d | %s | %s |", k, t.expected[k], benchkit.MS(benchkit.Percentile(lat, 50)), benchkit.MS(benchkit.Percentile(lat, 99)))
	}
	for _, k := range slices.Sorted(maps.Keys(t.unexpected)) {
		p("| **unexpected** %s | %d | | |", k, t.unexpected[k])
	}
	p("")
	for _, e := range t.examples {
		p("- unexpected: %s", e)
	}
	if len(t.examples) > 0 {
		p("")
	}
	p("Redis by key kind, after the warm-up → at the end (the kinds marked are the sessions'; the rest must not grow). The revocation change log holds %d entries at the end.", s.LogLength)
	p("")
	p("| Kind | Keys | Without TTL (end) | MEMORY USAGE | Per key |")
	p("|---|---|---|---|---|")
	for _, row := range kindsSummary(s.AfterWarmup, s.End) {
		p("%s", row)
	}
	p("| key tables (buckets, expires) | %d → %d keys | | %s → %s | |", s.AfterWarmup.Keys, s.End.Keys, kib(s.AfterWarmup.KeyTables), kib(s.End.KeyTables))
	p("| used_memory | | | %s → %s | |", kib(s.AfterWarmup.UsedMemory), kib(s.End.UsedMemory))
	p("")
	p("| Time | RSS of the replicas | Mirror (revoked) | Mirror users | Redis used_memory | DBSIZE | Live sessions | Sessions held |")
	p("|---|---|---|---|---|---|---|---|")
	step := max(1, len(s.Samples)/20)
	for i, x := range s.Samples {
		if i%step != 0 && i != len(s.Samples)-1 {
			continue
		}
		var rss, mir, users []string
		for j := range x.RSS {
			rss, mir, users = append(rss, benchkit.MiB(x.RSS[j])), append(mir, fmt.Sprintf("%.0f", x.Mirror[j])), append(users, fmt.Sprintf("%.0f", x.Users[j]))
		}
		p("| %v | %s | %s | %s | %s | %d | %d | %d |", x.At.Round(time.Second), strings.Join(rss, ", "), strings.Join(mir, ", "), strings.Join(users, ", "), benchkit.MiB(x.RedisBytes), x.RedisKeys, x.Live, x.Held)
	}
	p("")
}

func (r *report) checkOverload() {
	v, cp := r.overload, r.capacity
	goodput := float64(len(v.OK)) / v.Elapsed.Seconds()
	r.add("Goodput at "+fmt.Sprintf("%.0f", r.opts.overloadFactor)+" × the capacity", fmt.Sprintf("≥ %.1f × the capacity", goalGoodput),
		fmt.Sprintf("%.2f × (%.1f tokens/s)", goodput/cp.PerSec, goodput), goodput >= goalGoodput*cp.PerSec)
	other := 0
	for st, n := range v.Status {
		if st != http.StatusOK && st != http.StatusServiceUnavailable {
			other += n
		}
	}
	r.add("Responses other than 200 and 503", "0", fmt.Sprintf("%d (%s)", other, statusSummary(v.Status)), other == 0)
	r.add("503s without Retry-After", "0", fmt.Sprintf("%d of %d", v.NoRetryAfter, len(v.Refused)), v.NoRetryAfter == 0)
	// The generator shares the cores: the check takes the time from the
	// request written to the first byte of the answer, and shows the
	// whole call's and the replicas' own figure beside it (latency.go).
	p99 := benchkit.Percentile(v.RefusedWire, 99)
	busy := v.Server.token[outcomeBusy]
	r.add("p99 latency of the 503s (request written → first byte)", "≤ "+benchkit.MS(goalRefusalP99),
		fmt.Sprintf("%s (the whole call: %s; in the replicas' handler %.1f %% within 100 ms)", benchkit.MS(p99), benchkit.MS(benchkit.Percentile(v.Refused, 99)), 100*busy.within(goalRefusalP99.Seconds())),
		p99 <= goalRefusalP99)
	s99 := benchkit.Percentile(v.OK, 99)
	r.add("p99 latency of the successes", fmt.Sprintf("≤ %d × the hash-queue timeout (%v)", goalSuccessP99Factor, hashQueueTimeout), benchkit.MS(s99), s99 <= goalSuccessP99Factor*hashQueueTimeout)
	// As in the soak, one more argon2id block held at once steps RSS by
	// 19 MiB and stays: a step within the hash pool's blocks is that
	// plateau; a backlog the queue failed to bound (what this checks)
	// is thousands of requests in half an overload at 8 × the capacity.
	pool := r.hashPoolBytes()
	for i, h := range v.HalfPeaks {
		r.add(fmt.Sprintf("Memory bounded, replica %d: largest RSS of the second half of the overload ÷ the first half's", i),
			fmt.Sprintf("≤ %.2f, or grown by at most the hash pool's argon2id blocks (%s)", 1+goalRSSDrift, benchkit.MiB(int64(pool))),
			fmt.Sprintf("%.3f (%s, %s; VmHWM %s, in the closed loop %s)", float64(h[1])/float64(max(h[0], 1)), benchkit.MiB(h[0]), benchkit.MiB(h[1]), benchkit.MiB(v.PeakRSS[i]), benchkit.MiB(cp.PeakRSS[i])),
			float64(h[1]) <= (1+goalRSSDrift)*float64(h[0]) || float64(h[1]-h[0]) <= pool)
	}
	pr := v.Probe
	r.add("A user logging in at the same time", fmt.Sprintf("every login succeeds within %d attempts (honouring Retry-After)", r.opts.probeAttempts),
		fmt.Sprintf("%d of %d; attempts p50 %d, max %d", pr.Succeeded, pr.Logins, intPercentile(pr.Attempts, 50), intPercentile(pr.Attempts, 100)),
		pr.Logins > 0 && pr.Succeeded == pr.Logins)
}

func (r *report) writeOverload(p func(string, ...any)) {
	v, o := r.overload, r.opts
	p("### The overload")
	p("")
	p("Open loop at %.1f password grants/s for %v (at most %d in flight; %d due at the cap were skipped), for %d users in turn, from %d source addresses, over the three replicas (the replicas' client IP is the TCP peer, as no proxy is trusted). Meanwhile one more user logs in once a second from an address of its own, retrying a 503 after its Retry-After.",
		v.Rate, v.Elapsed.Round(time.Second), o.overloadCap, v.Skipped, o.overloadUsers, o.addrs)
	p("")
	p("| | |")
	p("|---|---|")
	p("| Responses | %s |", statusSummary(v.Status))
	p("| 200 latency p50 / p99 / max | %s / %s / %s |", benchkit.MS(benchkit.Percentile(v.OK, 50)), benchkit.MS(benchkit.Percentile(v.OK, 99)), benchkit.MS(benchkit.Percentile(v.OK, 100)))
	p("| 503 latency p50 / p99 / max | %s / %s / %s |", benchkit.MS(benchkit.Percentile(v.Refused, 50)), benchkit.MS(benchkit.Percentile(v.Refused, 99)), benchkit.MS(benchkit.Percentile(v.Refused, 100)))
	p("| 503 written → first byte p50 / p99 / max | %s / %s / %s |", benchkit.MS(benchkit.Percentile(v.RefusedWire, 50)), benchkit.MS(benchkit.Percentile(v.RefusedWire, 99)), benchkit.MS(benchkit.Percentile(v.RefusedWire, 100)))
	p("| Probe user: refusals by status | %s |", statusSummary(v.Probe.Refusals))
	p("")
	p("Where the time goes: the replicas' own figures (their `/metrics`, summed, over the overload; bucket bounds, as histograms give them) and the generator's scheduler.")
	p("")
	p("| | count | p50 | p99 | within 100 ms | over 1 s |")
	p("|---|---|---|---|---|---|")
	for _, k := range slices.Sorted(maps.Keys(v.Server.token)) {
		h := v.Server.token[k]
		if h.total() == 0 {
			continue
		}
		p("| handler time, password grant, %s | %.0f | %s | %s | %.1f %% | %.0f |", k, h.total(), seconds(h.quantile(0.5)), seconds(h.quantile(0.99)), 100*h.within(0.1), h.above(1))
	}
	for _, x := range []struct {
		name string
		h    histogram
	}{{"replicas' goroutines waiting runnable (go_sched_latencies_seconds)", v.Server.sched}, {"the generator's goroutines waiting runnable (runtime/metrics)", v.Own}} {
		p("| %s | %.0f | %s | %s | %.2f %% | %.0f |", x.name, x.h.total(), seconds(x.h.quantile(0.5)), seconds(x.h.quantile(0.99)), 100*x.h.within(0.1), x.h.above(1))
	}
	p("")
}

// outcomeBusy is the outcome label of a 503 "server busy" (the OAuth
// error code temporarily_unavailable).
const outcomeBusy = "temporarily_unavailable"

func rates(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.1f", x))
	}
	return strings.Join(parts, ", ")
}

func statusSummary(m map[int]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no response"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func intPercentile(xs []int, p float64) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
