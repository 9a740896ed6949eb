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

// Command bench measures the authstack token server on this machine and
// prints a Markdown report for docs/benchmarks.md:
//
//  1. the CPU of one password verification (argon2id at the default
//     parameters, bcrypt cost 10) through password.Verify;
//  2. POST /token over real HTTP against the real binary on a real
//     redis-server, closed loop, as a ratio of server CPU per token to one
//     hash verification;
//  3. bearer-validated GET /userinfo for ES256, EdDSA and RS256 keys, as a
//     ratio of server CPU per request to one bare signature verification
//     (and GET /.well-known/jwks.json as the floor of the HTTP overhead);
//  4. /token under an open-loop overload at twice the ceiling measured in 2:
//     goodput, the latency of the refusals (503) and peak RSS;
//  5. POST /token with grant_type client_credentials, for a client with a
//     secret (HTTP Basic) and one with private_key_jwt (a fresh ES256
//     assertion per request), as a ratio of server CPU per token to one
//     ES256 signature plus one ES256 verification, and to the HTTP floor;
//  6. GET /verify of a repeated token (the verified-token cache on and
//     off) and of a new token each time, as a ratio of server CPU per
//     request to Go's net/http serving a trivial handler (verify.go).
//
// Timing on a shared machine is noisy, so the headline figures are ratios of
// figures measured in the same run. All load goes to 127.0.0.1 only, and
// every loop is bounded in time and in count.
//
// Usage (after make build):
//
//	go run ./hack/bench -binary bin/authstack [-duration 8s] [-out FILE]
package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

type options struct {
	binary      string
	redisBin    string
	out         string
	duration    time.Duration
	warmup      time.Duration
	clients     int
	overloadCap int
	maxRequests int
	users       int
	rounds      int
	roundTrips  string
}

// The server's hash pool defaults (cmd/options.go): GOMAXPROCS workers, a
// queue of 4 × workers, 2s longest wait. The closed loops stay below
// workers + queue so that nothing is refused.
const (
	hashQueuePerWorker = 4
	hashQueueTimeout   = 2 * time.Second
)

const benchPassword = "correct horse battery staple"

func main() {
	var o options
	procs := runtime.GOMAXPROCS(0)
	flag.StringVar(&o.binary, "binary", "bin/authstack", "authstack binary to measure (make build)")
	flag.StringVar(&o.redisBin, "redis-server", "redis-server", "redis-server binary")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each measured load phase")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each measured phase")
	flag.IntVar(&o.clients, "clients", 2*procs+2, "concurrent keep-alive clients of the closed loops")
	flag.IntVar(&o.overloadCap, "overload-concurrency", 256, "most requests in flight in the overload phase")
	flag.IntVar(&o.maxRequests, "max-requests", 2_000_000, "most requests sent in one load phase")
	flag.IntVar(&o.rounds, "rounds", 4, "rounds the /token phase is split into, each after an in-process hash measurement")
	flag.IntVar(&o.users, "users", 32, "users the /token load cycles through (keeps each under the per-user throttle)")
	flag.StringVar(&o.roundTrips, "round-trips", "", "only measure /token latency with Redis behind a proxy delaying each way by these durations (comma-separated, e.g. 500us,1ms)")
	flag.Parse()
	if *serveFloorFlag != "" {
		if err := serveFloor(*serveFloorFlag); err != nil {
			fmt.Fprintln(os.Stderr, "bench: floor:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() > 0 || o.duration <= 0 || o.clients <= 0 || o.overloadCap <= 0 || o.maxRequests <= 0 || o.users <= 0 || o.rounds <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if limit := procs * (1 + hashQueuePerWorker); o.clients >= limit {
		benchkit.Progress("warning: -clients %d reaches the server's hash workers + queue (%d); lowering to %d so that nothing is refused", o.clients, limit, limit-1)
		o.clients = limit - 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	tmp, err := os.MkdirTemp("", "authstack-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	cleanup := func() {
		stop()
		benchkit.KillAll()
		_ = os.RemoveAll(tmp)
	}
	defer func() {
		if r := recover(); r != nil {
			cleanup()
			panic(r)
		}
	}()

	if o.roundTrips != "" {
		delays, err := parseDelays(o.roundTrips)
		if err == nil {
			err = runRoundTrips(ctx, o, tmp, delays, os.Stdout)
		}
		cleanup()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	rep, err := run(ctx, o, tmp)
	if err == nil {
		var buf bytes.Buffer
		rep.write(&buf)
		_, _ = os.Stdout.Write(buf.Bytes())
		if o.out != "" {
			err = os.WriteFile(o.out, buf.Bytes(), 0o644)
		}
	}
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if ctx.Err() != nil {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// peakRSS is the VmHWM of pid, in bytes.
func peakRSS(pid int) (int64, error) {
	m, err := benchkit.ReadMemory(pid)
	return m.Peak, err
}

// run measures everything and returns the report.
func run(ctx context.Context, o options, tmp string) (*report, error) {
	start := time.Now()
	binary, err := exec.LookPath(o.binary)
	if err != nil {
		return nil, fmt.Errorf("binary %s: %w (run make build)", o.binary, err)
	}
	redisBin, err := exec.LookPath(o.redisBin)
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w (make test-deps installs it)", o.redisBin, err)
	}
	rep := &report{Opts: o, Machine: machineInfo(binary, redisBin), Command: commandLine(o)}

	// 1. Hash verification CPU, in process.
	perHash := min(max(o.duration/2, time.Second), 10*time.Second)
	if rep.Hash, err = measureHashes(ctx, perHash); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	benchkit.Progress("hash: argon2id %v CPU/verify, bcrypt-10 %v CPU/verify", rep.Hash.Argon2id.Process, rep.Hash.Bcrypt.Process)

	// Redis, with the users every phase logs in as.
	rdir := tmp + "/redis"
	if err := os.Mkdir(rdir, 0o700); err != nil {
		return nil, err
	}
	rds, err := benchkit.StartRedis(ctx, redisBin, rdir)
	if err != nil {
		return nil, err
	}
	defer rds.Stop()
	if err := putUsers(ctx, rds.URL, o.users); err != nil {
		return nil, err
	}
	clientKey, err := signer.Generate(signer.AlgES256)
	if err != nil {
		return nil, err
	}
	if err := putClients(ctx, rds.URL, clientKey); err != nil {
		return nil, err
	}

	keys := map[string]keyDir{}
	for _, alg := range algs {
		dir, pub, err := writeKeyDir(tmp, alg)
		if err != nil {
			return nil, err
		}
		keys[alg] = keyDir{dir: dir, pub: pub}
	}

	if *verifyOnlyFlag {
		if rep.Verify, err = runVerify(ctx, o, binary, rds, keys[signer.AlgES256]); err != nil {
			return nil, err
		}
		rep.Took = time.Since(start)
		return rep, nil
	}

	// 2. /token, closed loop, at the default hash, in rounds interleaved
	// with the in-process hash measurement that is the ratio's denominator.
	if rep.Token, err = measureToken(ctx, o, binary, rds, keys[algs[0]].dir, perHash/time.Duration(o.rounds)); err != nil {
		return nil, fmt.Errorf("/token: %w", err)
	}
	benchkit.Progress("hash: argon2id %s (the cheap users' hash), one goroutine, 1s", paramsString(cheapParams))
	if rep.CheapHash, err = measureArgon2id(ctx, cheapParams, time.Second); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}

	// 4. Overload at twice the ceiling measured in 2, while the machine is
	// as close as can be to the state 2 measured it in.
	if rep.Overload, err = measureOverload(ctx, o, binary, rds, keys[algs[0]].dir, rep.token().Ceiling, perHash/2); err != nil {
		return nil, fmt.Errorf("overload: %w", err)
	}

	// 3. /userinfo per algorithm (and the JWKS floor on the first).
	microTime := min(max(o.duration/4, 500*time.Millisecond), 3*time.Second)
	benchkit.Progress("redis: in-process GetUser, %v", microTime)
	if rep.GetUser, err = measureGetUser(ctx, rds.URL, o.clients, microTime); err != nil {
		return nil, fmt.Errorf("GetUser: %w", err)
	}
	for i, alg := range algs {
		b, err := measureBearer(ctx, o, binary, rds, alg, keys[alg], microTime, i == 0)
		if err != nil {
			return nil, fmt.Errorf("/userinfo %s: %w", alg, err)
		}
		rep.Bearer = append(rep.Bearer, b)
	}

	// 5. client_credentials, with a secret and with private_key_jwt, after
	// 3 so that its HTTP floor is of the same minutes.
	if rep.ClientCreds, err = measureClientCredentials(ctx, o, binary, rds, keys[signer.AlgES256], clientKey, microTime); err != nil {
		return nil, fmt.Errorf("client_credentials: %w", err)
	}

	// 6. /verify against the HTTP floor.
	if rep.Verify, err = runVerify(ctx, o, binary, rds, keys[signer.AlgES256]); err != nil {
		return nil, err
	}

	rep.Took = time.Since(start)
	benchkit.Progress("done in %v", rep.Took.Round(time.Second))
	return rep, nil
}

type keyDir struct {
	dir string
	pub crypto.PublicKey
}

// Users: "bench-NNN" have an argon2id hash at the default parameters,
// "cheap-NNN" one at cheapParams, to measure what a token costs besides the
// hash.
const (
	defaultUsers = "bench"
	cheapUsers   = "cheap"
)

// cheapParams make a hash that costs next to nothing (the server verifies
// at the parameters stored in the hash).
var cheapParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// benchUser is the name of user i of a kind.
func benchUser(kind string, i int) string { return fmt.Sprintf("%s-%03d", kind, i) }

// putUsers writes n users of each kind, with one hash of benchPassword per
// kind, through the Redis store.
func putUsers(ctx context.Context, redisURL string, n int) error {
	st, err := redisstore.New(ctx, redisstore.Options{URL: redisURL})
	if err != nil {
		return err
	}
	defer st.Close()
	for kind, params := range map[string]password.Params{defaultUsers: password.DefaultParams, cheapUsers: cheapParams} {
		hash, err := params.Hash([]byte(benchPassword))
		if err != nil {
			return err
		}
		for i := range n {
			u := store.User{
				Username: benchUser(kind, i), PasswordHash: hash,
				Scopes: []string{"read", "write"}, Groups: []string{"readers", "writers"},
				Source: "bench/" + benchUser(kind, i),
			}
			if err := st.PutUser(ctx, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// tokenTarget posts password grants, cycling through the users of a kind so
// that concurrent requests are for different users.
func tokenTarget(base string, workers, users int, kind string) target {
	bodies := make([]string, users)
	for i := range bodies {
		bodies[i] = url.Values{"grant_type": {"password"}, "username": {benchUser(kind, i)}, "password": {benchPassword}}.Encode()
	}
	return target{
		build: func(ctx context.Context, worker, seq int) (*http.Request, error) {
			body := bodies[(worker+seq*workers)%users]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return req, err
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(`"access_token":"`)) },
	}
}

func getTarget(u, authorization string, want string) target {
	return target{
		build: func(ctx context.Context, _, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err == nil && authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			return req, err
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(want)) },
	}
}

// getToken gets one access token for user 0.
func getToken(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := tokenTarget(base, 1, 1, defaultUsers).build(ctx, 0, 0)
	if err != nil {
		return "", err
	}
	status, body, err := do(client, req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("POST /token: %d %.300s", status, body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		return "", fmt.Errorf("POST /token: no access_token in %.300s", body)
	}
	return resp.AccessToken, nil
}

// phase is one measured load against one server.
type phase struct {
	Load      *loadResult
	CPU       cpuSample
	Clients   int
	ServerLog int // lines the server logged at level error
	// Metrics are the increases of the scraped server metrics.
	Metrics map[string]float64
	Rounds  []round
}

// round is one part of a phase measured in rounds.
type round struct {
	OK  int
	CPU cpuSample
}

// measure runs a warm-up and then the measured load from loop, metering the
// server's and Redis's CPU over the measured part. The measured part is
// split into rounds, with between (if not nil) run before each: nothing is
// metered while it runs.
func measure(ctx context.Context, o options, srv *authServer, rds *benchkit.Redis, name string, rounds int, between func() error, loop func(d time.Duration) *loadResult) (phase, error) {
	if o.warmup > 0 {
		benchkit.Progress("%s: warm-up %v", name, o.warmup)
		if w := loop(o.warmup); w.Other() > 0 {
			return phase{}, fmt.Errorf("%s warm-up: %s; first error: %s", name, w.statusSummary(), w.FirstError)
		}
	}
	if err := ctx.Err(); err != nil {
		return phase{}, err
	}
	logs := srv.logLines()
	before, err := srv.metrics(ctx)
	if err != nil {
		return phase{}, err
	}
	rounds = max(rounds, 1)
	if rounds > 1 {
		benchkit.Progress("%s: measuring for %v in %d rounds", name, o.duration, rounds)
	} else {
		benchkit.Progress("%s: measuring for %v", name, o.duration)
	}
	p := phase{Metrics: map[string]float64{}}
	load := newLoadResult()
	for range rounds {
		if between != nil {
			if err := between(); err != nil {
				return phase{}, err
			}
		}
		meter, err := startCPUMeter(srv.PID(), rds.PID())
		if err != nil {
			return phase{}, err
		}
		l := loop(o.duration / time.Duration(rounds))
		cpu, err := meter.stop()
		if err != nil {
			return phase{}, err
		}
		if err := ctx.Err(); err != nil {
			return phase{}, err
		}
		load.merge(l)
		load.Elapsed += l.Elapsed
		p.CPU = p.CPU.add(cpu)
		p.Rounds = append(p.Rounds, round{OK: l.OK(), CPU: cpu})
	}
	if load.OK() == 0 {
		return phase{}, fmt.Errorf("%s: no successful request: %s; first error: %s", name, load.statusSummary(), load.FirstError)
	}
	after, err := srv.metrics(ctx)
	if err != nil {
		return phase{}, err
	}
	p.Load, p.ServerLog = load, srv.logLines()-logs
	for k, v := range after {
		p.Metrics[k] = v - before[k]
	}
	benchkit.Progress("%s: %.1f req/s, server %v CPU/req, %s", name, rate(load.OK(), load.Elapsed),
		(p.CPU.Server / time.Duration(load.OK())).Round(time.Microsecond), load.statusSummary())
	return p, nil
}

// tokenPhase is the result of part 2.
type tokenPhase struct {
	phase
	HashWall time.Duration // mean hash duration inside the server (its metrics)
	// Hash is argon2id measured in process before each round.
	Hash []cpuCost
	// Cheap is the same load for users whose hash costs next to nothing:
	// its CPU per token is the non-hash cost of a token.
	Cheap      phase
	PeakRSS    int64 // VmHWM at the end
	SampledRSS int64 // largest VmRSS seen
	Cmdline    string
}

func measureToken(ctx context.Context, o options, binary string, rds *benchkit.Redis, keysDir string, hashSlice time.Duration) (tokenPhase, error) {
	var t tokenPhase
	srv, err := startAuthServer(ctx, binary, rds.URL, keysDir)
	if err != nil {
		return t, err
	}
	defer srv.Stop(stopGrace)
	t.Cmdline = srv.cmdline
	client := newHTTPClient(o.clients)
	defer client.CloseIdleConnections()
	if _, err := getToken(ctx, client, srv.base); err != nil {
		return t, err
	}
	tgt := tokenTarget(srv.base, o.clients, o.users, defaultUsers)
	rss := benchkit.SampleRSS(srv.PID())
	hash := func() error {
		c, err := measureArgon2id(ctx, password.DefaultParams, hashSlice)
		t.Hash = append(t.Hash, c)
		return err
	}
	t.phase, err = measure(ctx, o, srv, rds, "/token", o.rounds, hash, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, tgt)
	})
	t.Clients = o.clients
	t.SampledRSS = rss.Stop()
	if err != nil {
		return t, err
	}
	if n := t.Metrics[metricHashCount]; n > 0 {
		t.HashWall = time.Duration(t.Metrics[metricHashSum] / n * float64(time.Second))
	}
	if t.PeakRSS, err = peakRSS(srv.PID()); err != nil {
		return t, err
	}
	cheap := tokenTarget(srv.base, o.clients, o.users, cheapUsers)
	o.duration = max(o.duration/2, time.Second)
	t.Cheap, err = measure(ctx, o, srv, rds, "/token, cheap hash", 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, cheap)
	})
	t.Cheap.Clients = o.clients
	return t, err
}

// bearerPhase is the result of part 3 for one algorithm.
type bearerPhase struct {
	Alg    string
	Micro  verifyCosts
	Token  int // length of the token
	Load   phase
	JWKS   *phase // only for the first algorithm
	Issuer string
}

func measureBearer(ctx context.Context, o options, binary string, rds *benchkit.Redis, alg string, kd keyDir, microTime time.Duration, jwks bool) (bearerPhase, error) {
	b := bearerPhase{Alg: alg}
	srv, err := startAuthServer(ctx, binary, rds.URL, kd.dir)
	if err != nil {
		return b, err
	}
	defer srv.Stop(stopGrace)
	b.Issuer = srv.issuer
	client := newHTTPClient(o.clients)
	defer client.CloseIdleConnections()
	tok, err := getToken(ctx, client, srv.base)
	if err != nil {
		return b, err
	}
	b.Token = len(tok)
	benchkit.Progress("%s: in-process verify of the server's token, %v each", alg, microTime)
	if b.Micro, err = measureTokenVerify(ctx, alg, tok, kd.pub, kd.dir, srv.issuer, microTime); err != nil {
		return b, err
	}
	ui := getTarget(srv.base+"/userinfo", "Bearer "+tok, `"sub":"`+benchUser(defaultUsers, 0)+`"`)
	b.Load, err = measure(ctx, o, srv, rds, "/userinfo "+alg, 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, ui)
	})
	b.Load.Clients = o.clients
	if err != nil || !jwks {
		return b, err
	}
	jw := getTarget(srv.base+"/.well-known/jwks.json", "", `"keys":[`)
	p, err := measure(ctx, o, srv, rds, "/.well-known/jwks.json", 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, jw)
	})
	p.Clients = o.clients
	b.JWKS = &p
	return b, err
}

// overloadPhase is the result of part 4.
type overloadPhase struct {
	phase
	Rate       float64 // requests per second offered
	Ceiling    float64 // the /token ceiling of part 2, tokens per second
	Cap        int
	PeakRSS    int64
	SampledRSS int64
	// Hash is argon2id measured in process right before and after the phase.
	Hash []cpuCost
}

func measureOverload(ctx context.Context, o options, binary string, rds *benchkit.Redis, keysDir string, ceiling float64, hashAgain time.Duration) (overloadPhase, error) {
	v := overloadPhase{Ceiling: ceiling, Rate: 2 * ceiling, Cap: o.overloadCap}
	srv, err := startAuthServer(ctx, binary, rds.URL, keysDir)
	if err != nil {
		return v, err
	}
	defer srv.Stop(stopGrace)
	client := newHTTPClient(o.overloadCap)
	defer client.CloseIdleConnections()
	tgt := tokenTarget(srv.base, 1, o.users, defaultUsers)
	maxTotal := min(o.maxRequests, int(v.Rate*o.duration.Seconds()*1.1)+1)
	if o.warmup > 0 {
		// Warm the fresh server up as in 2 (closed loop, nothing refused).
		benchkit.Progress("overload: warm-up %v (closed loop)", o.warmup)
		w := closedLoop(ctx, client, o.clients, o.warmup, o.maxRequests, tokenTarget(srv.base, o.clients, o.users, defaultUsers))
		if w.Other() > 0 {
			return v, fmt.Errorf("warm-up: %s; first error: %s", w.statusSummary(), w.FirstError)
		}
		o.warmup = 0
	}
	benchkit.Progress("hash: argon2id before the overload, one goroutine, %v", hashAgain)
	c, err := measureArgon2id(ctx, password.DefaultParams, hashAgain)
	if err != nil {
		return v, err
	}
	v.Hash = append(v.Hash, c)
	rss := benchkit.SampleRSS(srv.PID())
	benchkit.Progress("overload: open loop at %.1f req/s (2 × the %.1f tokens/s ceiling), at most %d in flight", v.Rate, v.Ceiling, o.overloadCap)
	v.phase, err = measure(ctx, o, srv, rds, "overload /token", 1, nil, func(d time.Duration) *loadResult {
		return openLoop(ctx, client, v.Rate, d, o.overloadCap, maxTotal, tgt)
	})
	v.Clients = o.overloadCap
	v.SampledRSS = rss.Stop()
	if err != nil {
		return v, err
	}
	if v.PeakRSS, err = peakRSS(srv.PID()); err != nil {
		return v, err
	}
	srv.Stop(stopGrace)
	benchkit.Progress("hash: argon2id after the overload, one goroutine, %v", hashAgain)
	c, err = measureArgon2id(ctx, password.DefaultParams, hashAgain)
	v.Hash = append(v.Hash, c)
	return v, err
}

const (
	metricHashSum      = "authstack_password_hash_duration_seconds_sum"
	metricHashCount    = "authstack_password_hash_duration_seconds_count"
	metricHashOverload = "authstack_password_hash_overload_total"
	metricGCCycles     = "go_gc_duration_seconds_count"
)

// metrics scrapes the series above from the server's /metrics, summing a
// series over its labels if it has any. A series the server does not
// export is missing from the map (and reads as 0).
func (s *authServer) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ops+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	status, body, err := do(&http.Client{Timeout: 5 * time.Second}, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %d", status)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series, value := line[:i], line[i+1:]
		name, _, _ := strings.Cut(series, "{")
		switch name {
		case metricHashSum, metricHashCount, metricHashOverload, metricGCCycles, metricCacheHits, metricCacheMisses:
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, fmt.Errorf("/metrics %s: %w", series, err)
			}
			out[name] += f
		}
	}
	return out, nil
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// commandLine is the command that reproduces this run.
func commandLine(o options) string {
	var b strings.Builder
	b.WriteString("make build && ")
	if g := os.Getenv("GODEBUG"); g != "" {
		b.WriteString("GODEBUG=" + g + " ")
	}
	b.WriteString("go run ./hack/bench -binary " + o.binary)
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "binary" && f.Name != "out" {
			fmt.Fprintf(&b, " -%s %s", f.Name, f.Value)
		}
	})
	return b.String()
}
