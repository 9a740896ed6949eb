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
	"debug/buildinfo"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// Goals the report checks.
const (
	goalTokenRatio    = 1.1 // server CPU per token ÷ one hash verify
	goalBearerRatio   = 1.5 // server CPU per /userinfo ÷ one bare signature verify
	goalGoodput       = 0.9 // overload goodput ÷ throughput measured in part 2
	goalRefusalP99Max = hashQueueTimeout / 10
)

type machine struct {
	NumCPU, GOMAXPROCS int
	Model, Kernel      string
	GoBench, GoServer  string
	Redis              string
	Env                []string
	Date               string
}

// unknown stands for a machine detail that could not be read.
const unknown = "unknown"

func machineInfo(binary, redisBin string) machine {
	m := machine{
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Model: unknown, Kernel: unknown, GoBench: runtime.Version(), GoServer: unknown, Redis: unknown,
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if bi, err := buildinfo.ReadFile(binary); err == nil {
		m.GoServer = bi.GoVersion
	}
	if out, err := exec.Command(redisBin, "--version").Output(); err == nil {
		m.Redis = strings.TrimSpace(string(out))
		if _, v, ok := strings.Cut(m.Redis, " v="); ok {
			m.Redis, _, _ = strings.Cut(v, " ")
		}
	}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			m.Env = append(m.Env, k+"="+v)
		}
	}
	return m
}

type report struct {
	Opts    options
	Machine machine
	Command string
	Hash    hashCosts
	// CheapHash is the hash of the "cheap" users.
	CheapHash cpuCost
	// GetUser is the in-process cost of the Redis store's GetUser.
	GetUser  cpuCost
	Token    tokenPhase
	Bearer   []bearerPhase
	Overload overloadPhase
	// ClientCreds is the client_credentials grant (part 5).
	ClientCreds ccPhase
	// Verify is GET /verify against the HTTP floor (part 6, verify.go).
	Verify *verifyPhases
	Took   time.Duration
}

// httpFloor is the server CPU of one GET /.well-known/jwks.json (part 3),
// 0 if it was not measured.
func (r *report) httpFloor() time.Duration {
	for _, b := range r.Bearer {
		if b.JWKS != nil {
			return perOp(b.JWKS.CPU.Server, b.JWKS.Load.OK())
		}
	}
	return 0
}

// derived /token figures.
type tokenFigures struct {
	TPS         float64       // successful tokens per second
	CPUPerToken time.Duration // server CPU per successful token
	Ratio       float64       // CPUPerToken ÷ one argon2id verify
	Ceiling     float64       // cores ÷ hash CPU, tokens per second
	Share       float64       // share of all cores the server used
	OfCeiling   float64       // TPS ÷ Ceiling
	OfShare     float64       // TPS ÷ (Share × Ceiling), = 1 / Ratio
	// NonHash is the server CPU of a token besides the hash: CPU per token
	// of the cheap-hash run less the cheap hash.
	NonHash time.Duration
}

func (r *report) token() tokenFigures {
	t := r.Token
	ok := t.Load.OK()
	f := tokenFigures{TPS: rate(ok, t.Load.Elapsed), CPUPerToken: t.CPU.Server / time.Duration(ok)}
	hash := r.hash()
	cores := float64(r.Machine.GOMAXPROCS)
	f.Ratio = ratio(f.CPUPerToken, hash)
	f.Ceiling = cores / hash.Seconds()
	f.Share = t.CPU.Server.Seconds() / (t.CPU.Wall.Seconds() * cores)
	f.OfCeiling = f.TPS / f.Ceiling
	f.OfShare = f.TPS / (f.Share * f.Ceiling)
	f.NonHash = perOp(t.Cheap.CPU.Server, t.Cheap.Load.OK()) - r.CheapHash.Process
	return f
}

// hash is the CPU of one argon2id verify the /token figures are compared
// with: measured in process in slices interleaved with the /token rounds.
func (r *report) hash() time.Duration {
	if h := sumCosts(r.Token.Hash); h.Ops > 0 {
		return h.Process
	}
	return r.Hash.Argon2id.Process
}

// overloadFigures are the derived figures of part 4.
type overloadFigures struct {
	Goodput   float64 // 200/s
	OfCeiling float64 // Goodput ÷ the ceiling of part 2
	Share     float64 // share of all cores the server used
	// Hash is argon2id measured right before and after the phase, and
	// Ceiling the ceiling it gives.
	Hash    time.Duration
	Ceiling float64
	OfShare float64 // Goodput ÷ (Share × Ceiling)
}

func (r *report) overload() overloadFigures {
	ov := r.Overload
	cores := float64(r.Machine.GOMAXPROCS)
	f := overloadFigures{Goodput: rate(ov.Load.OK(), ov.Load.Elapsed), Hash: sumCosts(ov.Hash).Process}
	f.OfCeiling = f.Goodput / ov.Ceiling
	f.Share = ov.CPU.Server.Seconds() / (ov.CPU.Wall.Seconds() * cores)
	f.Ceiling = cores / f.Hash.Seconds()
	f.OfShare = f.Goodput / (f.Share * f.Ceiling)
	return f
}

// minMax returns the smallest and largest process CPU of cs.
func minMax(cs []cpuCost) (lo, hi time.Duration) {
	for i, c := range cs {
		if i == 0 || c.Process < lo {
			lo = c.Process
		}
		hi = max(hi, c.Process)
	}
	return lo, hi
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func perOp(d time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func pct1(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *report) write(w io.Writer) {
	m := r.Machine
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if *verifyOnlyFlag {
		p("Machine: %d × %s, GOMAXPROCS %d, Go %s; %s", m.NumCPU, m.Model, m.GOMAXPROCS, m.GoBench, m.Date)
		p("")
		r.writeVerify(p)
		return
	}
	tf := r.token()
	of := r.overload()
	ov := r.Overload
	refused := ov.Load.Latency[http.StatusServiceUnavailable]

	p("## Benchmark run of %s", m.Date)
	p("")
	p("- Machine: %d × %s (nproc %d, GOMAXPROCS %d), Linux %s", m.NumCPU, m.Model, m.NumCPU, m.GOMAXPROCS, m.Kernel)
	p("- Go: %s (server binary built with %s); Redis %s", m.GoBench, m.GoServer, m.Redis)
	if len(m.Env) > 0 {
		p("- Environment: %s", strings.Join(m.Env, " "))
	}
	p("- Reproduce: `%s`", r.Command)
	p("- Each load phase: %v measured after a %v warm-up; closed loops use %d keep-alive clients; whole run %v.",
		r.Opts.duration, r.Opts.warmup, r.Token.Clients, r.Took.Round(time.Second))
	p("")
	p("The server, Redis and the load generator share the same %d cores, and timing on a shared machine is noisy,", m.GOMAXPROCS)
	p("so the headline figures are ratios of CPU times measured in the same run: the CPU the server process")
	p("spent per request (utime+stime from /proc/PID/stat over the measured interval) against the in-process CPU")
	p("of the one operation that request cannot avoid (a password hash, a signature verification).")
	p("")

	p("### Summary")
	p("")
	p("| Figure | Value | Goal | |")
	p("|---|---|---|---|")
	p("| /token: server CPU per token ÷ one argon2id verify | %.2f | ≤ %.1f | %s |", tf.Ratio, goalTokenRatio, verdict(tf.Ratio <= goalTokenRatio))
	p("| /token: throughput, %% of the ceiling scaled by the server's CPU share | %s | ≥ %s | %s |", pct(tf.OfShare), pct1(1/goalTokenRatio), verdict(tf.OfShare >= 1/goalTokenRatio))
	nh := ratio(tf.NonHash, r.hash())
	p("| /token: CPU besides the hash per token ÷ one argon2id verify (cheap-hash run: what the server's code adds) | %.3f | ≤ %.2f | %s |", nh, goalTokenRatio-1, verdict(nh <= goalTokenRatio-1))
	p("| /token: responses other than 200 | %d | 0 | %s |", r.Token.Load.Other()+r.Token.Cheap.Load.Other(), verdict(r.Token.Load.Other()+r.Token.Cheap.Load.Other() == 0))
	for _, b := range r.Bearer {
		cpu := perOp(b.Load.CPU.Server, b.Load.Load.OK())
		rt := ratio(cpu, b.Micro.Bare.Process)
		p("| /userinfo %s: server CPU per request ÷ one bare %s verify | %.2f | ≤ %.1f | %s |", b.Alg, b.Alg, rt, goalBearerRatio, verdict(rt <= goalBearerRatio))
	}
	nonOK := 0
	for _, b := range r.Bearer {
		nonOK += b.Load.Load.Other()
	}
	p("| /userinfo: responses other than 200 | %d | 0 | %s |", nonOK, verdict(nonOK == 0))
	p("| Overload (2× ceiling): goodput, %% of the /token ceiling | %s | ≥ %s | %s |", pct(of.OfCeiling), pct(goalGoodput), verdict(of.OfCeiling >= goalGoodput))
	p("| Overload: goodput, %% of the ceiling (hash re-measured around the phase) scaled by the server's CPU share | %s | ≥ %s | %s |", pct(of.OfShare), pct(goalGoodput), verdict(of.OfShare >= goalGoodput))
	p("| Overload: p99 latency of the 503 refusals | %s | < %s | %s |", benchkit.MS(percentile(refused, 99)), benchkit.MS(goalRefusalP99Max), verdict(percentile(refused, 99) < goalRefusalP99Max))
	p("| Overload: responses other than 200 and 503 | %d | 0 | %s |", ov.Load.Other(http.StatusServiceUnavailable), verdict(ov.Load.Other(http.StatusServiceUnavailable) == 0))
	cc := r.ClientCreds
	for _, x := range []struct {
		name string
		ph   phase
	}{{"client_secret_basic", cc.Secret}, {"private_key_jwt", cc.Keyed}} {
		cpu := perOp(x.ph.CPU.Server, x.ph.Load.OK())
		p("| client_credentials, %s: server CPU per token ÷ (one ES256 sign + one verify) / ÷ the HTTP floor | %.2f / %.2f | – | |", x.name, ratio(cpu, cc.reference()), ratio(cpu, r.httpFloor()))
	}
	ccOther := cc.Secret.Load.Other() + cc.Keyed.Load.Other()
	p("| client_credentials: responses other than 200 | %d | 0 | %s |", ccOther, verdict(ccOther == 0))
	if v := r.Verify; v != nil {
		rt := ratio(perOp(v.Cached.CPU.Server, v.Cached.Load.OK()), perOp(v.Floor.CPU.Server, v.Floor.Load.OK()))
		p("| /verify of a repeated token: server CPU per request ÷ the net/http floor (part 6) | %.2f | ≤ %.1f | %s |", rt, goalVerifyFloorRatio, verdict(rt <= goalVerifyFloorRatio))
	}
	p("| Server peak RSS (VmHWM): /token load / overload | %s / %s | – | |", benchkit.MiB(r.Token.PeakRSS), benchkit.MiB(ov.PeakRSS))
	p("")
	p("Absolute rates on this machine: %.1f tokens/s (argon2id default); /userinfo %s; see the sections below.", tf.TPS, r.userinfoRates())
	p("")

	r.writeHash(p)
	r.writeToken(p, tf)
	r.writeBearer(p)
	r.writeOverload(p, tf, of)
	r.writeClientCredentials(p, r.httpFloor())
	r.writeVerify(p)
}

// userinfoRates lists the /userinfo request rates, e.g. "ES256 11386/s, ...".
func (r *report) userinfoRates() string {
	var parts []string
	for _, b := range r.Bearer {
		parts = append(parts, fmt.Sprintf("%s %.0f req/s", b.Alg, rate(b.Load.Load.OK(), b.Load.Load.Elapsed)))
	}
	return strings.Join(parts, ", ")
}

func (r *report) writeHash(p func(string, ...any)) {
	h := r.Hash
	p("### 1. Password verification CPU")
	p("")
	p("`password.Verify` (the server's code path) in a loop on one goroutine locked to its thread.")
	p("*Process* is the CPU of the whole benchmark process over the loop (getrusage RUSAGE_SELF): the hash and the")
	p("garbage collection its allocation causes; it is the figure the server's CPU is compared with. *Thread* is")
	p("the measuring thread alone (RUSAGE_THREAD): the hash without the GC on other threads. x/crypto/argon2 runs")
	p("each lane on a goroutine of its own, so for argon2id the thread figure misses the hash itself: use process.")
	p("")
	p("| Hash | CPU per verify (process) | kernel part | page faults per verify | thread only | wall | verifies |")
	p("|---|---|---|---|---|---|---|")
	row := func(name string, c cpuCost, bold bool) {
		v := benchkit.MS(c.Process)
		if bold {
			v = "**" + v + "**"
		}
		th := "–"
		if c.Thread > 0 {
			th = benchkit.MS(c.Thread)
		}
		p("| %s | %s | %s | %.0f | %s | %s | %d |", name, v, pct(ratio(c.Sys, c.Process)), c.Faults, th, benchkit.MS(c.Wall), c.Ops)
	}
	row(fmt.Sprintf("argon2id %s (default)", paramsString(password.DefaultParams)), h.Argon2id, true)
	row("bcrypt cost 10", h.Bcrypt, true)
	row(fmt.Sprintf("argon2id default, %d verifies at once", h.Parallelism), h.Argon2idParallel, false)
	if len(r.Token.Hash) > 0 {
		lo, hi := minMax(r.Token.Hash)
		row(fmt.Sprintf("argon2id default, in %d slices between the /token rounds of 2 (slices %s–%s)", len(r.Token.Hash), benchkit.MS(lo), benchkit.MS(hi)), sumCosts(r.Token.Hash), false)
	}
	for i, c := range r.Overload.Hash {
		when := "before"
		if i > 0 {
			when = "after"
		}
		row(fmt.Sprintf("argon2id default, right %s the overload of 4", when), c, false)
	}
	row(fmt.Sprintf("argon2id %s (the cheap users of 2)", paramsString(cheapParams)), r.CheapHash, false)
	p("")
	p("Memory-bound argon2id slows down when other processes use the caches and memory bus, so its CPU time")
	p("varies with the load on the machine (the spread of the rows above). The /token ratio therefore divides by")
	p("the figure measured in slices between the rounds of the /token load, %s.", benchkit.MS(r.hash()))
	p("")
}

func (r *report) writeToken(p func(string, ...any), tf tokenFigures) {
	t := r.Token
	hash := r.hash()
	cores := r.Machine.GOMAXPROCS
	ok := t.Load.OK()
	p("### 2. POST /token over HTTP (argon2id default, ES256)")
	p("")
	p("The real binary on a real redis-server (`--save \"\" --appendonly no`), %d users with an argon2id default-parameter hash,", r.Opts.users)
	p("password grant with the default public client, %d closed-loop keep-alive clients (below the server's %d hash workers +", t.Clients, cores)
	p("%d queue slots, so nothing is refused), measured in %d rounds, each after an in-process hash slice. Server command:", cores*hashQueuePerWorker, len(t.Rounds))
	p("")
	p("    %s", t.Cmdline)
	p("")
	p("| Figure | Value |")
	p("|---|---|")
	p("| Successful tokens/s | **%.1f** (%d in %.1f s) |", tf.TPS, ok, t.Load.Elapsed.Seconds())
	p("| Server CPU per token | %s |", benchkit.MS(tf.CPUPerToken))
	p("| ÷ one argon2id verify (%s) | **%.2f** (goal ≤ %.1f: %s) |", benchkit.MS(hash), tf.Ratio, goalTokenRatio, verdict(tf.Ratio <= goalTokenRatio))
	p("| Ceiling: %d cores ÷ one verify | %.1f tokens/s |", cores, tf.Ceiling)
	p("| Throughput, %% of ceiling | %s |", pct(tf.OfCeiling))
	p("| Share of the %d cores the server got | %s (Redis %s, load generator %s) |", cores, pct(tf.Share),
		pct(t.CPU.Redis.Seconds()/(t.CPU.Wall.Seconds()*float64(cores))), pct(t.CPU.Bench.Seconds()/(t.CPU.Wall.Seconds()*float64(cores))))
	p("| Throughput, %% of ceiling × share | **%s** (goal ≥ %s) |", pct(tf.OfShare), pct1(1/goalTokenRatio))
	p("| Kernel part of the server's CPU (of the in-process hash: %s) | %s |", pct(ratio(sumCosts(t.Hash).Sys, hash)), pct(ratio(t.CPU.ServerSys, t.CPU.Server)))
	p("| Server page faults per token (in-process hash: %.0f per verify) | %.0f |", sumCosts(t.Hash).Faults, float64(t.CPU.ServerFaults)/float64(ok))
	p("| Server context switches per token | %.1f |", float64(t.CPU.ServerSwitches)/float64(ok))
	p("| Redis CPU per token | %s |", benchkit.MS(perOp(t.CPU.Redis, ok)))
	p("| Mean hash time inside the server (its metrics, wall) | %s |", benchkit.MS(t.HashWall))
	p("| Garbage collections in the server per token | %.2f |", t.Metrics[metricGCCycles]/float64(ok))
	p("| Latency p50 / p99 | %s / %s |", benchkit.MS(percentile(t.Load.Latency[http.StatusOK], 50)), benchkit.MS(percentile(t.Load.Latency[http.StatusOK], 99)))
	p("| Responses | %s |", t.Load.statusSummary())
	p("| Server error log lines | %d |", t.ServerLog+t.Cheap.ServerLog)
	p("| Server peak RSS (VmHWM) | %s |", benchkit.MiB(t.PeakRSS))
	p("")
	if len(t.Rounds) == len(t.Hash) && len(t.Rounds) > 1 {
		p("Per round:")
		p("")
		p("| Round | argon2id verify in process | tokens | server CPU per token | ratio | server share of the cores |")
		p("|---|---|---|---|---|---|")
		for i, rd := range t.Rounds {
			per := perOp(rd.CPU.Server, rd.OK)
			p("| %d | %s | %d | %s | %.2f | %s |", i+1, benchkit.MS(t.Hash[i].Process), rd.OK, benchkit.MS(per), ratio(per, t.Hash[i].Process),
				pct(rd.CPU.Server.Seconds()/(rd.CPU.Wall.Seconds()*float64(cores))))
		}
		p("")
	}
	c := t.Cheap
	cok := c.Load.OK()
	p("The same load for %d users whose hash is argon2id %s (%s) measures, with far more requests, what a token", r.Opts.users, paramsString(cheapParams), benchkit.MS(r.CheapHash.Process))
	p("costs besides the hash (HTTP, the client lookup, the throttle's four Redis scripts, the user GET, signing, JSON, GC):")
	p("")
	p("| Figure | Value |")
	p("|---|---|")
	p("| Tokens/s with the cheap hash | %.0f (%d in %.1f s) |", rate(cok, c.Load.Elapsed), cok, c.Load.Elapsed.Seconds())
	p("| Server CPU per token with the cheap hash | %s |", benchkit.MS(perOp(c.CPU.Server, cok)))
	p("| Server page faults / context switches per token | %.2f / %.1f |", float64(c.CPU.ServerFaults)/float64(cok), float64(c.CPU.ServerSwitches)/float64(cok))
	p("| Less the cheap hash: non-hash CPU per token | **%s** (%s of one default verify) |", benchkit.MS(tf.NonHash), pct1(ratio(tf.NonHash, hash)))
	p("| Redis CPU per token | %s |", benchkit.MS(perOp(c.CPU.Redis, cok)))
	p("| Latency p50 / p99 | %s / %s |", benchkit.MS(percentile(c.Load.Latency[http.StatusOK], 50)), benchkit.MS(percentile(c.Load.Latency[http.StatusOK], 99)))
	p("| Responses | %s |", c.Load.statusSummary())
	p("")
	nonHash := ratio(tf.NonHash, hash)
	p("How the ratio of %.2f splits, in verifies:", tf.Ratio)
	p("")
	p("| Part | Share |")
	p("|---|---|")
	p("| the hash, as measured in process | 1.000 |")
	p("| everything besides the hash (the cheap-hash run) | %+.3f |", nonHash)
	p("| the rest: argon2id inside the loaded server against the in-process loop (two hashes sharing caches and memory bus, GC and page faults of the server's heap) and noise | %+.3f |", tf.Ratio-1-nonHash)
	p("")
	p("*Ceiling* is what the cores could do if they did nothing but hash. The server cannot have all of them: Redis")
	p("and the load generator run on the same machine. Scaling the ceiling by the share of the cores the server")
	p("actually got gives throughput ÷ (share × ceiling) = one verify ÷ server CPU per token = 1 ÷ ratio, so the")
	p("goal ratio ≤ %.1f means the server reaches ≥ %s of the ceiling for whatever share of the cores the load", goalTokenRatio, pct1(1/goalTokenRatio))
	p("generator leaves it; on a dedicated host the same ratio bounds the throughput against the full ceiling.")
	p("")
}

func (r *report) writeBearer(p func(string, ...any)) {
	p("### 3. Bearer-validated GET /userinfo")
	p("")
	p("One server per signing key (PKCS#8 ECDSA P-256, Ed25519, RSA 2048), one token, then %d closed-loop clients", r.Token.Clients)
	p("sending GET /userinfo with `Authorization: Bearer`. *Bare verify* is golang-jwt/v5 parse + signature verify of")
	p("that same token with the same public key into RegisteredClaims, in process (process CPU per op, as in 1);")
	p("*validator* is the server's own `accesstoken.Validator` on the same token, in process, without HTTP or Redis.")
	p("Each /userinfo checks revocation in the server's local mirror: no Redis command per request.")
	p("")
	p("| Endpoint | req/s | server CPU/req | bare verify | ratio (goal ≤ %.1f) | validator in-process | Redis CPU/req | p50 / p99 | non-200 |", goalBearerRatio)
	p("|---|---|---|---|---|---|---|---|---|")
	var floor time.Duration
	var floorAlg string
	for _, b := range r.Bearer {
		ok := b.Load.Load.OK()
		cpu := perOp(b.Load.CPU.Server, ok)
		lat := b.Load.Load.Latency[http.StatusOK]
		p("| /userinfo %s | %.0f | %s | %s | **%.2f** %s | %s | %s | %s / %s | %d |", b.Alg, rate(ok, b.Load.Load.Elapsed), benchkit.MS(cpu),
			benchkit.MS(b.Micro.Bare.Process), ratio(cpu, b.Micro.Bare.Process), verdict(ratio(cpu, b.Micro.Bare.Process) <= goalBearerRatio),
			benchkit.MS(b.Micro.Validator.Process), benchkit.MS(perOp(b.Load.CPU.Redis, ok)), benchkit.MS(percentile(lat, 50)), benchkit.MS(percentile(lat, 99)), b.Load.Load.Other())
		if b.JWKS != nil {
			j := b.JWKS
			jok := j.Load.OK()
			floor, floorAlg = perOp(j.CPU.Server, jok), b.Alg
			jl := j.Load.Latency[http.StatusOK]
			p("| /.well-known/jwks.json (%s server; no verify) | %.0f | %s | – | %.2f × %s verify | – | %s | %s / %s | %d |", b.Alg, rate(jok, j.Load.Elapsed), benchkit.MS(floor),
				ratio(floor, b.Micro.Bare.Process), b.Alg, benchkit.MS(perOp(j.CPU.Redis, jok)), benchkit.MS(percentile(jl, 50)), benchkit.MS(percentile(jl, 99)), j.Load.Other())
		}
	}
	p("")
	if floor > 0 {
		p("Where the server CPU of one /userinfo goes: GET /.well-known/jwks.json (%s server) is the floor of the", floorAlg)
		p("HTTP path (connection, request parsing, mux, metrics middleware, response write); the validator is measured")
		p("in process; the rest is the handler (bearer parsing, the mirror check, the userinfo JSON, metrics) and the")
		p("runtime. The last column is the ratio without the HTTP floor, what a service validating in process pays:")
		p("")
		p("| Alg | total | HTTP floor | bare verify | validator overhead | rest | ratio without the HTTP floor |")
		p("|---|---|---|---|---|---|---|")
		for _, b := range r.Bearer {
			cpu := perOp(b.Load.CPU.Server, b.Load.Load.OK())
			bare, v := b.Micro.Bare.Process, b.Micro.Validator.Process
			p("| %s | %s | %s | %s | %s | %s | %.2f |", b.Alg, benchkit.MS(cpu), benchkit.MS(floor), benchkit.MS(bare), benchkit.MS(v-bare), benchkit.MS(cpu-floor-v), ratio(cpu-floor, bare))
		}
		p("")
	}
	p("Share of the cores during each phase — server / Redis / load generator:")
	p("")
	cores := float64(r.Machine.GOMAXPROCS)
	for _, b := range r.Bearer {
		phases := []struct {
			name string
			ph   *phase
		}{{"/userinfo " + b.Alg, &b.Load}}
		if b.JWKS != nil {
			phases = append(phases, struct {
				name string
				ph   *phase
			}{"/.well-known/jwks.json", b.JWKS})
		}
		for _, x := range phases {
			c := x.ph.CPU
			w := c.Wall.Seconds() * cores
			p("- %s: %s / %s / %s; server error log lines: %d", x.name, pct(c.Server.Seconds()/w), pct(c.Redis.Seconds()/w), pct(c.Bench.Seconds()/w), x.ph.ServerLog)
		}
	}
	p("")
}

func (r *report) writeOverload(p func(string, ...any), tf tokenFigures, of overloadFigures) {
	ov := r.Overload
	l := ov.Load
	refused := l.Latency[http.StatusServiceUnavailable]
	oks := l.Latency[http.StatusOK]
	cores := float64(r.Machine.GOMAXPROCS)
	p("### 4. POST /token at twice the ceiling")
	p("")
	p("A fresh server (ES256, default hash pool: %d workers, %d queue slots, %v longest wait), then an open-loop", r.Machine.GOMAXPROCS, r.Machine.GOMAXPROCS*hashQueuePerWorker, hashQueueTimeout)
	p("generator sending on a fixed schedule at twice the /token ceiling of 2 (cores ÷ one verify), one goroutine per request,")
	p("at most %d in flight, for %v.", ov.Cap, r.Opts.duration)
	p("")
	p("| Figure | Value |")
	p("|---|---|")
	p("| Offered rate | %.1f req/s (2 × %.1f) |", ov.Rate, ov.Ceiling)
	p("| Sent / skipped at the in-flight cap | %d / %d |", l.Sent, l.Skipped)
	p("| Responses | %s |", l.statusSummary())
	p("| Goodput (200/s) | **%.1f** |", of.Goodput)
	p("| Goodput, %% of the ceiling (%.1f tokens/s) | **%s** (goal ≥ %s: %s) |", ov.Ceiling, pct(of.OfCeiling), pct(goalGoodput), verdict(of.OfCeiling >= goalGoodput))
	p("| Goodput, %% of the closed-loop throughput of 2 | %s |", pct(of.Goodput/rate(r.Token.Load.OK(), r.Token.Load.Elapsed)))
	p("| Refused (503) | %d, p50 %s, p99 %s, max %s |", len(refused), benchkit.MS(percentile(refused, 50)), benchkit.MS(percentile(refused, 99)), benchkit.MS(percentile(refused, 100)))
	p("| Refusals counted by the hash pool (authstack_password_hash_overload_total) | %.0f |", ov.Metrics[metricHashOverload])
	p("| Other than 200 and 503 | %d |", l.Other(http.StatusServiceUnavailable))
	p("| Successful (200) latency p50 / p99 | %s / %s |", benchkit.MS(percentile(oks, 50)), benchkit.MS(percentile(oks, 99)))
	perGood := perOp(ov.CPU.Server, l.OK())
	p("| Server CPU per successful token (refusals included) | %s (%.2f × one verify; %.2f × the closed loop of 2) |", benchkit.MS(perGood), ratio(perGood, r.hash()), ratio(perGood, tf.CPUPerToken))
	p("| Kernel (system) part of the server's CPU | %s |", pct(ratio(ov.CPU.ServerSys, ov.CPU.Server)))
	p("| Server page faults / context switches per request | %.0f / %.1f |", float64(ov.CPU.ServerFaults)/float64(l.Sent), float64(ov.CPU.ServerSwitches)/float64(l.Sent))
	p("| Server page faults / context switches per successful token | %.0f / %.1f (closed loop of 2: %.0f / %.1f) |",
		float64(ov.CPU.ServerFaults)/float64(l.OK()), float64(ov.CPU.ServerSwitches)/float64(l.OK()),
		float64(r.Token.CPU.ServerFaults)/float64(r.Token.Load.OK()), float64(r.Token.CPU.ServerSwitches)/float64(r.Token.Load.OK()))
	p("| argon2id verify re-measured right before and after this phase | %s: ceiling %.1f tokens/s |", benchkit.MS(of.Hash), of.Ceiling)
	p("| Goodput, %% of that ceiling | %s |", pct(of.Goodput/of.Ceiling))
	p("| Goodput, %% of that ceiling × the server's share of the cores (%s) | **%s** (goal ≥ %s: %s) |", pct(of.Share), pct(of.OfShare), pct(goalGoodput), verdict(of.OfShare >= goalGoodput))
	w := ov.CPU.Wall.Seconds() * cores
	p("| Share of the cores: server / Redis / load generator | %s / %s / %s |", pct(ov.CPU.Server.Seconds()/w), pct(ov.CPU.Redis.Seconds()/w), pct(ov.CPU.Bench.Seconds()/w))
	p("| Server peak RSS (VmHWM): normal load (2) / overload | %s / %s |", benchkit.MiB(r.Token.PeakRSS), benchkit.MiB(ov.PeakRSS))
	p("| Largest sampled VmRSS: normal load / overload | %s / %s |", benchkit.MiB(r.Token.SampledRSS), benchkit.MiB(ov.SampledRSS))
	p("| Server error log lines | %d |", ov.ServerLog)
	p("")
	p("Goodput against the full ceiling counts against the server the cores that Redis, the load generator and")
	p("anything else on the machine took; scaled by the server's share it isolates what the server did with the")
	p("CPU it got (as in 2). A refusal does no hashing, so whatever the server spends per successful token beyond")
	p("the closed loop of 2 is overhead of the overload: compare the kernel part, the page faults (pages the Go")
	p("runtime gave back to the kernel and touched again, such as freed argon2id blocks) and the context switches")
	p("with the closed loop's.")
	p("")
	if l.FirstError != "" && l.Other(http.StatusServiceUnavailable) > 0 {
		p("First unexpected response: `%s`", strings.ReplaceAll(l.FirstError, "`", "'"))
		p("")
	}
}
