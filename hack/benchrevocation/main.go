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

// Command benchrevocation measures revocation on this machine and prints a
// Markdown report for docs/benchmarks.md:
//
//  1. validation CPU: accesstoken.Validator alone (bare signature
//     verification and claim checks), with the revocation mirror, and with a
//     synchronous Redis check instead (the revocation key and the user
//     record), as ns per validation and ratios to the bare figure; with the
//     Redis commands per validation read from INFO commandstats;
//  2. propagation: three `authstack server` processes on one redis-server;
//     POST /revoke on A, then /verify polled on B and C until both answer
//     401; p50 and p99 over the revocations;
//  3. memory: a server's RSS after loading a mirror of N revoked jtis,
//     against the same server with none; and the validation figures again
//     with the big mirror.
//
// Timing on a shared machine is noisy; the headline figures are ratios of
// figures measured in the same run. Everything runs on 127.0.0.1.
//
// Usage (after make build):
//
//	go run ./hack/benchrevocation -binary bin/authstack [-revocations 1000] [-mirror 1000000]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/serverproc"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	issuer    = "http://auth.bench.test"
	userPW    = "bench-password"
	svcSecret = "bench-svc-secret-with-more-than-32-chars"
	// grantPassword is the grant the bench client logs in with.
	grantPassword = "password"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func main() {
	binary := flag.String("binary", "bin/authstack", "authstack binary (make build)")
	redisBin := flag.String("redis-server", "redis-server", "redis-server binary")
	revocations := flag.Int("revocations", 1000, "revocations timed for propagation")
	mirrorSize := flag.Int("mirror", 1_000_000, "revoked jtis loaded for the memory figure")
	out := flag.String("out", "", "also write the report to this file")
	flag.Parse()
	goredis.SetLogger(quietLogger{})
	var report strings.Builder
	if err := run(&report, *binary, *redisBin, *revocations, *mirrorSize); err != nil {
		fmt.Fprintln(os.Stderr, "benchrevocation:", err)
		os.Exit(1)
	}
	fmt.Print(report.String())
	if *out != "" {
		_ = os.WriteFile(*out, []byte(report.String()), 0o644)
	}
}

func run(w io.Writer, binary, redisBin string, revocations, mirrorSize int) error {
	tmp, err := os.MkdirTemp("", "benchrevocation")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	rds, err := benchkit.StartRedis(ctx, redisBin, tmp)
	if err != nil {
		return err
	}
	defer rds.Stop()
	st, err := redisstore.New(ctx, redisstore.Options{URL: rds.URL})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(w, "## Revocation (make bench-revocation)\n\n%d cores, %s.\n\n", runtimeCPUs(), time.Now().UTC().Format("2006-01-02"))

	benchkit.Progress("validation CPU, empty mirror")
	small, err := measureValidation(ctx, st, rds)
	if err != nil {
		return err
	}

	benchkit.Progress("propagation over %d revocations", revocations)
	prop, err := measurePropagation(ctx, binary, tmp, rds, st, revocations)
	if err != nil {
		return err
	}

	benchkit.Progress("memory with %d revoked jtis", mirrorSize)
	mem, err := measureMemory(ctx, binary, tmp, rds, st, mirrorSize)
	if err != nil {
		return err
	}
	benchkit.Progress("validation CPU, %d revoked jtis in the mirror", mirrorSize)
	big, err := measureValidation(ctx, st, rds)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "### Validation CPU (ES256, one goroutine)\n\n")
	fmt.Fprintf(w, "| Check | Mirror size | ns per validation | × bare verify | Redis commands per validation |\n|---|---|---|---|---|\n")
	for _, v := range []struct {
		name string
		size string
		val  validation
	}{{"bare signature verification", "-", small}, {"with the revocation mirror", "0", small}, {"with the revocation mirror", strconv.Itoa(mirrorSize), big}} {
		switch v.name {
		case "bare signature verification":
			fmt.Fprintf(w, "| %s | - | %.0f | 1.00 | 0 |\n", v.name, v.val.bare)
		default:
			fmt.Fprintf(w, "| %s | %s | %.0f | %.3f | %s |\n", v.name, v.size, v.val.mirror, v.val.mirror/v.val.bare, v.val.mirrorCmds)
		}
	}
	fmt.Fprintf(w, "| synchronous Redis check (GET revocation + GET user) | - | %.0f | %.2f | %s |\n\n", small.sync, small.sync/small.bare, small.syncCmds)
	fmt.Fprintf(w, "Redis commands during the mirror runs are the mirror's own background reads, not per request: %s.\n\n", small.background)

	fmt.Fprintf(w, "### Propagation (3 server processes, one redis-server)\n\n")
	fmt.Fprintf(w, "From the 200 of `POST /revoke` on A until `GET /verify` answers 401 on both B and C, over %d revocations:\n\n", prop.n)
	fmt.Fprintf(w, "| p50 | p90 | p99 | max |\n|---|---|---|---|\n| %s | %s | %s | %s |\n\n", benchkit.MS(prop.p50), benchkit.MS(prop.p90), benchkit.MS(prop.p99), benchkit.MS(prop.max))

	fmt.Fprintf(w, "### Memory\n\n")
	fmt.Fprintf(w, "| Server | RSS after ready | Peak RSS | Time to ready |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| no revocations | %s | %s | %s |\n", benchkit.MiB(mem.baseRSS), benchkit.MiB(mem.baseHWM), mem.baseReady.Round(time.Millisecond))
	fmt.Fprintf(w, "| %d revoked jtis in the mirror | %s | %s | %s |\n\n", mem.n, benchkit.MiB(mem.rss), benchkit.MiB(mem.hwm), mem.ready.Round(time.Millisecond))
	fmt.Fprintf(w, "%.0f bytes of RSS per revoked jti; Redis used %s for them (INFO memory, used_memory).\n", float64(mem.rss-mem.baseRSS)/float64(mem.n), benchkit.MiB(mem.redisBytes))
	return nil
}

func runtimeCPUs() int {
	n := 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(data), "processor\t:")
	}
	return n
}

// --- validation ---------------------------------------------------------

type validation struct {
	bare, mirror, sync   float64 // ns per validation
	mirrorCmds, syncCmds string
	background           string
}

func measureValidation(ctx context.Context, st *redisstore.Store, rds *benchkit.Redis) (validation, error) {
	var v validation
	key, err := signer.Generate("ES256")
	if err != nil {
		return v, err
	}
	ks, err := signer.NewKeySet(key)
	if err != nil {
		return v, err
	}
	keys := signer.Static(ks)
	if err := st.PutUser(ctx, store.User{Username: "alice", PasswordHash: "x"}); err != nil {
		return v, err
	}
	m := mirror.New(mirror.Options{Feed: st})
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = m.Run(mctx) }()
	for !m.Fresh() {
		time.Sleep(10 * time.Millisecond)
	}
	epoch, err := m.Epoch()
	if err != nil {
		return v, err
	}
	is := &accesstoken.Issuer{Keys: keys, Issuer: issuer}
	tok, _, err := is.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "svc", Audience: []string{"api"},
		Scopes: []string{"read"}, TTL: time.Hour, SessionID: accesstoken.NewID(), Epoch: epoch})
	if err != nil {
		return v, err
	}
	val := &accesstoken.Validator{Keys: keys, Issuer: issuer, Audiences: []string{"api"}}
	var failed atomic.Bool
	bench := func(f func() error) float64 {
		r := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					failed.Store(true)
				}
			}
		})
		return float64(r.T.Nanoseconds()) / float64(r.N)
	}
	bare := func() error { _, err := val.Validate(tok); return err }
	withMirror := func() error {
		c, err := val.Validate(tok)
		if err != nil {
			return err
		}
		return m.Check(c)
	}
	withRedis := func() error {
		c, err := val.Validate(tok)
		if err != nil {
			return err
		}
		if revoked, err := st.AccessTokenRevoked(ctx, c.ID, time.Now()); err != nil || revoked {
			return fmt.Errorf("revoked %v: %v", revoked, err)
		}
		_, err = st.GetUser(ctx, c.Subject)
		return err
	}
	// Interleaved rounds; the best round of each is kept.
	best := func(cur, x float64) float64 {
		if cur == 0 || x < cur {
			return x
		}
		return cur
	}
	var mirrorCalls, mirrorN int64
	var mirrorTime time.Duration
	for range 3 {
		v.bare = best(v.bare, bench(bare))
		before, _ := commandCalls(ctx, rds.Client)
		start := time.Now()
		r := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if withMirror() != nil {
					failed.Store(true)
				}
			}
		})
		mirrorTime += time.Since(start)
		after, _ := commandCalls(ctx, rds.Client)
		mirrorCalls += after - before
		mirrorN += int64(r.N)
		v.mirror = best(v.mirror, float64(r.T.Nanoseconds())/float64(r.N))
		v.sync = best(v.sync, bench(withRedis))
	}
	if failed.Load() {
		return v, fmt.Errorf("a validation failed during the benchmark")
	}
	// testing.Benchmark runs the function several times to size b.N, so the
	// commands are divided by every call made, which the calibration runs
	// only increase; the rate over the wall time is the background's.
	v.mirrorCmds = fmt.Sprintf("%.6f", float64(mirrorCalls)/float64(mirrorN))
	v.syncCmds = "2"
	v.background = fmt.Sprintf("%d commands in %.1f s (%.1f per second, the blocking XREAD and the read script)",
		mirrorCalls, mirrorTime.Seconds(), float64(mirrorCalls)/mirrorTime.Seconds())
	return v, nil
}

// commandCalls sums calls= over INFO commandstats.
func commandCalls(ctx context.Context, c *goredis.Client) (int64, error) {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_info:") {
			continue
		}
		_, rest, _ := strings.Cut(line, "calls=")
		n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		total += n
	}
	return total, nil
}

// --- propagation ------------------------------------------------------------

type propagation struct {
	n                  int
	p50, p90, p99, max time.Duration
}

func setupRecords(ctx context.Context, st store.Store) error {
	hash, err := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash([]byte(userPW))
	if err != nil {
		return err
	}
	if err := st.PutUser(ctx, store.User{Username: "bench", PasswordHash: hash}); err != nil {
		return err
	}
	return st.PutClient(ctx, store.Client{ID: "svc", SecretHash: store.HashClientSecret(svcSecret),
		GrantTypes: []string{grantPassword}, Audiences: []string{issuer}})
}

func startServers(binary, dir, redisURL string, n int) ([]*serverproc.Server, error) {
	keys := filepath.Join(dir, "keys")
	if err := serverproc.WriteKey(keys); err != nil {
		return nil, err
	}
	var out []*serverproc.Server
	for i := range n {
		s, err := serverproc.Start(binary, dir, fmt.Sprint("server-", i), redisURL, issuer, keys, nil,
			"--throttle-ip-max", "0", "--throttle-user-ip-max", "0", "--log-level", "warn")
		if err != nil {
			stopAll(out)
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func stopAll(ss []*serverproc.Server) {
	for _, s := range ss {
		s.Stop()
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

func post(u string, form url.Values) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", svcSecret)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func verify(base, tok string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/verify", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func measurePropagation(ctx context.Context, binary, dir string, rds *benchkit.Redis, st store.Store, n int) (propagation, error) {
	if err := setupRecords(ctx, st); err != nil {
		return propagation{}, err
	}
	servers, err := startServers(binary, dir, rds.URL, 3)
	if err != nil {
		return propagation{}, err
	}
	defer stopAll(servers)
	a, others := servers[0], servers[1:]
	tokens := make([]string, 0, n)
	for len(tokens) < n {
		code, body, err := post(a.URL+"/token", url.Values{"grant_type": {grantPassword}, "username": {"bench"}, "password": {userPW}})
		if err != nil || code != http.StatusOK {
			return propagation{}, fmt.Errorf("login: %d %v %s", code, err, body)
		}
		_, tok, _ := strings.Cut(body, `"access_token":"`)
		tok, _, _ = strings.Cut(tok, `"`)
		tokens = append(tokens, tok)
	}
	var lat []time.Duration
	for _, tok := range tokens {
		for _, s := range others {
			if code, err := verify(s.URL, tok); err != nil || code != http.StatusOK {
				return propagation{}, fmt.Errorf("verify on %s before revocation: %d %v", s.URL, code, err)
			}
		}
		code, _, err := post(a.URL+"/revoke", url.Values{"token": {tok}})
		if err != nil || code != http.StatusOK {
			return propagation{}, fmt.Errorf("revoke: %d %v", code, err)
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var worst time.Duration
		var ferr error
		for _, s := range others {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					code, err := verify(s.URL, tok)
					d := time.Since(t0)
					if err != nil || (code != http.StatusOK && code != http.StatusUnauthorized) || d > 10*time.Second {
						mu.Lock()
						ferr = fmt.Errorf("verify on %s: %d %v after %v", s.URL, code, err, d)
						mu.Unlock()
						return
					}
					if code == http.StatusUnauthorized {
						mu.Lock()
						worst = max(worst, d)
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		if ferr != nil {
			return propagation{}, ferr
		}
		lat = append(lat, worst)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return propagation{n: n, p50: pct(0.50), p90: pct(0.90), p99: pct(0.99), max: lat[len(lat)-1]}, nil
}

// --- memory -------------------------------------------------------------------

type memory struct {
	n                          int
	baseRSS, baseHWM, rss, hwm int64
	baseReady, ready           time.Duration
	redisBytes                 int64
}

func measureMemory(ctx context.Context, binary, dir string, rds *benchkit.Redis, st *redisstore.Store, n int) (memory, error) {
	m := memory{n: n}
	start := time.Now()
	base, err := startServers(binary, filepath.Join(dir, "base"), rds.URL, 1)
	if err != nil {
		return m, err
	}
	m.baseReady = time.Since(start)
	time.Sleep(time.Second)
	baseMem, err := benchkit.ReadMemory(base[0].PID())
	stopAll(base)
	if err != nil {
		return m, err
	}
	m.baseRSS, m.baseHWM = baseMem.RSS, baseMem.Peak
	usedBefore, err := rds.UsedMemory(ctx)
	if err != nil {
		return m, err
	}
	benchkit.Progress("  writing %d revocations", n)
	exp := time.Now().Add(24 * time.Hour)
	var next atomic.Int64
	var wg sync.WaitGroup
	var werr atomic.Value
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := st.RevokeAccessToken(ctx, accesstoken.NewID(), exp); err != nil {
					werr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := werr.Load().(error); err != nil {
		return m, err
	}
	usedAfter, err := rds.UsedMemory(ctx)
	if err != nil {
		return m, err
	}
	m.redisBytes = usedAfter - usedBefore
	start = time.Now()
	big, err := startServers(binary, filepath.Join(dir, "big"), rds.URL, 1)
	if err != nil {
		return m, err
	}
	m.ready = time.Since(start)
	time.Sleep(time.Second)
	bigMem, err := benchkit.ReadMemory(big[0].PID())
	stopAll(big)
	m.rss, m.hwm = bigMem.RSS, bigMem.Peak
	return m, err
}
