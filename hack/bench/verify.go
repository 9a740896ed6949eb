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
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Part 6: GET /verify over HTTP against the HTTP floor (issue 15, part 1).

// goalVerifyFloorRatio bounds the server CPU of a /verify of a repeated
// token ÷ that of Go's net/http serving a trivial handler.
const goalVerifyFloorRatio = 1.3

// coldTokens is how many distinct tokens the cold /verify mix cycles
// through: more than the server's token cache holds at its defaults
// (10,000 entries, 16 MiB), which evicts the oldest first, so that every
// request misses.
const coldTokens = 16_000

// serveFloorFlag, set only when bench re-executes itself, makes the
// process serve the HTTP floor on the given address instead of measuring.
var serveFloorFlag = flag.String("serve-floor", "", "internal: serve the HTTP floor (a trivial net/http handler) on this address")

// verifyOnlyFlag runs part 6 alone, for working on it.
var verifyOnlyFlag = flag.Bool("verify-only", false, "measure only GET /verify and the HTTP floor (part 6)")

// serveFloor is the HTTP floor: Go's net/http serving a handler that
// answers 200 with no body, in a process of its own started like the
// server (same binary kind, GOMAXPROCS and GODEBUG, loopback), with an
// empty /metrics so that it can be measured as the server is.
func serveFloor(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startFloor re-executes this program as the floor server.
func startFloor(ctx context.Context) (*authServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := authtest.FreeAddr()
	if err != nil {
		return nil, err
	}
	c, err := benchkit.Start("floor", self, "-serve-floor", addr)
	if err != nil {
		return nil, err
	}
	s := &authServer{Child: c, base: "http://" + addr, ops: "http://" + addr, cmdline: "bench -serve-floor " + addr}
	if err := s.waitReady(ctx); err != nil {
		c.Stop(stopGrace)
		return nil, err
	}
	return s, nil
}

// verifyPhases is the result of part 6, for ES256.
type verifyPhases struct {
	// Cached is one token repeated, at the server's defaults (its token
	// cache on); Uncached the same with --token-cache-entries 0, as
	// before the cache; Cold a new token on every request (coldTokens
	// cycled), cache on.
	Cached, Uncached, Cold phase
	// Floor is the trivial handler.
	Floor   phase
	Cmdline string
	Tokens  int
}

func measureVerify(ctx context.Context, o options, binary string, rds *benchkit.Redis, kd keyDir) (verifyPhases, error) {
	v := verifyPhases{Tokens: coldTokens}
	client := newHTTPClient(o.clients)
	defer client.CloseIdleConnections()
	var tok string
	for _, cached := range []bool{true, false} {
		var extra []string
		if !cached {
			extra = []string{"--token-cache-entries", "0"}
		}
		srv, err := startAuthServer(ctx, binary, rds.URL, kd.dir, extra...)
		if err != nil {
			return v, err
		}
		if cached {
			v.Cmdline = srv.cmdline
		}
		tok, err = v.measureServer(ctx, o, srv, rds, kd, client, cached)
		srv.Stop(stopGrace)
		client.CloseIdleConnections()
		if err != nil {
			return v, err
		}
		if cached {
			// The floor between the two servers, sent the same request.
			if v.Floor, err = measureFloor(ctx, o, rds, client, tok); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// measureFloor measures the HTTP floor with the requests /verify gets.
func measureFloor(ctx context.Context, o options, rds *benchkit.Redis, client *http.Client, tok string) (phase, error) {
	floor, err := startFloor(ctx)
	if err != nil {
		return phase{}, fmt.Errorf("floor: %w", err)
	}
	defer client.CloseIdleConnections()
	defer floor.Stop(stopGrace)
	p, err := measure(ctx, o, floor, rds, "HTTP floor (trivial net/http handler)", 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, getTarget(floor.base+"/verify", "Bearer "+tok, ""))
	})
	p.Clients = o.clients
	return p, err
}

// measureServer measures /verify of a repeated token on srv (into Cached
// or Uncached) and, with the cache, the cold mix; it returns the token.
func (v *verifyPhases) measureServer(ctx context.Context, o options, srv *authServer, rds *benchkit.Redis, kd keyDir, client *http.Client, cached bool) (string, error) {
	tok, err := getToken(ctx, client, srv.base)
	if err != nil {
		return "", err
	}
	name, into := "/verify, one token, cache off", &v.Uncached
	if cached {
		name, into = "/verify, one token", &v.Cached
	}
	*into, err = measure(ctx, o, srv, rds, name, 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, getTarget(srv.base+"/verify", "Bearer "+tok, ""))
	})
	into.Clients = o.clients
	if err != nil || !cached {
		return tok, err
	}
	benchkit.Progress("/verify: signing %d tokens like the server's", coldTokens)
	toks, err := likeTokens(tok, kd.dir, coldTokens)
	if err != nil {
		return "", err
	}
	// One sequence across the warm-up and the measured loop: a token comes
	// back only after coldTokens others, long evicted.
	var next atomic.Int64
	cold := target{
		build: func(ctx context.Context, worker, seq int) (*http.Request, error) {
			raw := toks[int(next.Add(1))%len(toks)]
			return getTarget(srv.base+"/verify", "Bearer "+raw, "").build(ctx, worker, seq)
		},
		ok: func([]byte) bool { return true },
	}
	v.Cold, err = measure(ctx, o, srv, rds, "/verify, every token new", 1, nil, func(d time.Duration) *loadResult {
		return closedLoop(ctx, client, o.clients, d, o.maxRequests, cold)
	})
	v.Cold.Clients = o.clients
	return tok, err
}

// likeTokens signs n tokens with the claims of the server's token tok (its
// user, session and epoch, so the server's revocation mirror accepts
// them), each with a jti of its own, with the server's key from keysDir.
func likeTokens(tok, keysDir string, n int) ([]string, error) {
	ks, err := signer.LoadDir(keysDir)
	if err != nil {
		return nil, err
	}
	var claims accesstoken.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		return nil, err
	}
	toks := make([]string, n)
	for i := range toks {
		claims.ID = accesstoken.NewID()
		if toks[i], err = ks.Sign(claims); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

// writeVerify writes part 6.
func (r *report) writeVerify(p func(string, ...any)) {
	v := r.Verify
	if v == nil {
		return
	}
	per := func(ph phase) time.Duration { return perOp(ph.CPU.Server, ph.Load.OK()) }
	floor := per(v.Floor)
	p("### 6. GET /verify over HTTP against the HTTP floor (ES256)")
	p("")
	p("The HTTP floor is Go's net/http serving a handler that answers 200 with no body, in a process of its own")
	p("(this program re-executed with -serve-floor, same GOMAXPROCS and GODEBUG), sent the same GET /verify with the")
	p("same bearer token by the same %d keep-alive clients on the same loopback. Then /verify of one token, repeated, at the server's defaults (its", v.Floor.Clients)
	p("verified-token cache on) and with `--token-cache-entries 0` (as before the cache), and a cold mix: %d", v.Tokens)
	p("distinct tokens of the same user and session cycled through, more than the cache holds, so that every")
	p("request verifies. Server command:")
	p("")
	p("    %s", v.Cmdline)
	p("")
	p("| Phase | requests/s | server CPU per request | ÷ HTTP floor | responses |")
	p("|---|---|---|---|---|")
	for _, row := range []struct {
		name string
		ph   phase
	}{
		{"HTTP floor (trivial handler)", v.Floor},
		{"/verify, one token, cache on", v.Cached},
		{"/verify, one token, cache off (before)", v.Uncached},
		{"/verify, every token new, cache on", v.Cold},
	} {
		p("| %s | %.0f | %s | %.2f | %s |", row.name, rate(row.ph.Load.OK(), row.ph.Load.Elapsed), benchkit.MS(per(row.ph)),
			ratio(per(row.ph), floor), row.ph.Load.statusSummary())
	}
	p("")
	rt := ratio(per(v.Cached), floor)
	p("- /verify of a repeated token ÷ the HTTP floor: **%.2f** (goal ≤ %.1f: %s)", rt, goalVerifyFloorRatio, verdict(rt <= goalVerifyFloorRatio))
	p("- Cache off ÷ cache on, one token: %.1f; every token new (cache on) ÷ cache off: %.2f",
		ratio(per(v.Uncached), per(v.Cached)), ratio(per(v.Cold), per(v.Uncached)))
	p("- Server cache figures over the phases (hits / misses): one token %.0f / %.0f; every token new %.0f / %.0f",
		v.Cached.Metrics[metricCacheHits], v.Cached.Metrics[metricCacheMisses], v.Cold.Metrics[metricCacheHits], v.Cold.Metrics[metricCacheMisses])
	p("")
}

const (
	metricCacheHits   = "authstack_token_cache_hits_total"
	metricCacheMisses = "authstack_token_cache_misses_total"
)

func runVerify(ctx context.Context, o options, binary string, rds *benchkit.Redis, kd keyDir) (*verifyPhases, error) {
	v, err := measureVerify(ctx, o, binary, rds, kd)
	if err != nil {
		return nil, fmt.Errorf("/verify: %w", err)
	}
	return &v, nil
}
