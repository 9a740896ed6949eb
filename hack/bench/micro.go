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
	"crypto"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// cpuCost is the CPU one operation costs, measured in this process.
type cpuCost struct {
	Ops int
	// Thread is the CPU of the measuring thread alone (RUSAGE_THREAD):
	// the operation itself, without the garbage collection it causes on
	// other threads.
	Thread time.Duration
	// Process is the CPU of the whole process (RUSAGE_SELF) over the loop:
	// the operation and the runtime work (GC) it causes. Nothing else runs
	// in this process meanwhile. This is the figure the server's CPU per
	// request is compared with.
	Process time.Duration
	// Sys is the system (kernel) part of Process.
	Sys  time.Duration
	Wall time.Duration
	// Faults are the minor page faults of the process per operation.
	Faults float64
}

// sumCosts combines measurements of the same operation.
func sumCosts(cs []cpuCost) cpuCost {
	var sum cpuCost
	for _, c := range cs {
		sum.Ops += c.Ops
		sum.Thread += c.Thread * time.Duration(c.Ops)
		sum.Process += c.Process * time.Duration(c.Ops)
		sum.Sys += c.Sys * time.Duration(c.Ops)
		sum.Faults += c.Faults * float64(c.Ops)
		sum.Wall += c.Wall * time.Duration(c.Ops)
	}
	if sum.Ops > 0 {
		sum.Thread /= time.Duration(sum.Ops)
		sum.Process /= time.Duration(sum.Ops)
		sum.Sys /= time.Duration(sum.Ops)
		sum.Faults /= float64(sum.Ops)
		sum.Wall /= time.Duration(sum.Ops)
	}
	return sum
}

// measureCPU runs fn on one goroutine locked to its thread, at least minOps
// and at most maxOps times, stopping once maxTime has passed.
func measureCPU(ctx context.Context, minOps, maxOps int, maxTime time.Duration, fn func() error) (cpuCost, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := fn(); err != nil { // warm-up, and a check that fn works
		return cpuCost{}, err
	}
	s0, f0 := selfSys()
	t0, p0, w0 := threadCPU(), selfCPU(), time.Now()
	n := 0
	for n < maxOps && (n < minOps || time.Since(w0) < maxTime) {
		if err := ctx.Err(); err != nil {
			return cpuCost{}, err
		}
		if err := fn(); err != nil {
			return cpuCost{}, err
		}
		n++
	}
	t1, p1, w1 := threadCPU(), selfCPU(), time.Now()
	s1, f1 := selfSys()
	return cpuCost{
		Ops:     n,
		Thread:  (t1 - t0) / time.Duration(n),
		Process: (p1 - p0) / time.Duration(n),
		Sys:     (s1 - s0) / time.Duration(n),
		Wall:    w1.Sub(w0) / time.Duration(n),
		Faults:  float64(f1-f0) / float64(n),
	}, nil
}

// measureCPUParallel runs fn on par goroutines at once for maxTime (at
// least minOps each) and returns the process CPU per operation: the cost of
// an operation when every core does the same, as in the saturated server.
func measureCPUParallel(ctx context.Context, par, minOps int, maxTime time.Duration, fn func() error) (cpuCost, error) {
	var (
		mu    sync.Mutex
		total int
		first error
		wg    sync.WaitGroup
	)
	// Warm up with par at once, so that the heap has grown to what par
	// concurrent operations need before the measurement starts.
	for range par {
		wg.Go(func() {
			if err := fn(); err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return cpuCost{}, first
	}
	s0, f0 := selfSys()
	p0, w0 := selfCPU(), time.Now()
	for range par {
		wg.Go(func() {
			n := 0
			for n < minOps || time.Since(w0) < maxTime {
				if err := ctx.Err(); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					break
				}
				if err := fn(); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					break
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		return cpuCost{}, first
	}
	p1, w1 := selfCPU(), time.Now()
	s1, f1 := selfSys()
	n := time.Duration(total)
	return cpuCost{Ops: total, Process: (p1 - p0) / n, Sys: (s1 - s0) / n, Wall: w1.Sub(w0) * time.Duration(par) / n,
		Faults: float64(f1-f0) / float64(total)}, nil
}

// hashCosts measures password.Verify (the server's code path) for the
// default argon2id parameters and bcrypt cost 10.
type hashCosts struct {
	Argon2id, Bcrypt cpuCost
	// Argon2idParallel is argon2id with GOMAXPROCS verifications at once.
	Argon2idParallel cpuCost
	Parallelism      int
}

func measureHashes(ctx context.Context, perHash time.Duration) (hashCosts, error) {
	pw := []byte(benchPassword)
	argon, err := password.DefaultParams.Hash(pw)
	if err != nil {
		return hashCosts{}, err
	}
	bc, err := bcrypt.GenerateFromPassword(pw, 10)
	if err != nil {
		return hashCosts{}, err
	}
	verify := func(h string) func() error {
		return func() error {
			ok, err := password.Verify(h, pw)
			if err == nil && !ok {
				err = fmt.Errorf("password.Verify(%.12s…): no match", h)
			}
			return err
		}
	}
	var c hashCosts
	benchkit.Progress("hash: argon2id %s, one goroutine, %v", paramsString(password.DefaultParams), perHash)
	if c.Argon2id, err = measureArgon2id(ctx, password.DefaultParams, perHash); err != nil {
		return c, err
	}
	benchkit.Progress("hash: bcrypt cost 10, one goroutine, %v", perHash)
	if c.Bcrypt, err = measureCPU(ctx, 10, 10000, perHash, verify(string(bc))); err != nil {
		return c, err
	}
	c.Parallelism = runtime.GOMAXPROCS(0)
	benchkit.Progress("hash: argon2id, %d goroutines at once, %v", c.Parallelism, perHash)
	if c.Argon2idParallel, err = measureCPUParallel(ctx, c.Parallelism, 5, perHash, verify(argon)); err != nil {
		return c, err
	}
	return c, nil
}

// measureArgon2id measures password.Verify of an argon2id hash with params
// on one goroutine for d.
func measureArgon2id(ctx context.Context, params password.Params, d time.Duration) (cpuCost, error) {
	pw := []byte(benchPassword)
	h, err := params.Hash(pw)
	if err != nil {
		return cpuCost{}, err
	}
	return measureCPU(ctx, 10, 1_000_000, d, func() error {
		ok, err := password.Verify(h, pw)
		if err == nil && !ok {
			err = errors.New("password.Verify(argon2id): no match")
		}
		return err
	})
}

// measureGetUser measures the client side of the one Redis GET a /userinfo
// makes: the redis store's GetUser (command, round trip, JSON decoding),
// from par goroutines at once as in the loaded server (one goroutine alone
// would mostly measure its thread going to sleep and waking up).
func measureGetUser(ctx context.Context, redisURL string, par int, d time.Duration) (cpuCost, error) {
	st, err := redisstore.New(ctx, redisstore.Options{URL: redisURL})
	if err != nil {
		return cpuCost{}, err
	}
	defer st.Close()
	return measureCPUParallel(ctx, par, 100, d, func() error {
		_, err := st.GetUser(ctx, benchUser(defaultUsers, 0))
		return err
	})
}

func paramsString(p password.Params) string {
	return fmt.Sprintf("m=%d KiB, t=%d, p=%d", p.Memory, p.Time, p.Threads)
}

// verifyCosts is the in-process cost of checking one access token.
type verifyCosts struct {
	// Bare is golang-jwt/v5 parse + signature verify into RegisteredClaims.
	Bare cpuCost
	// Validator is the server's accesstoken.Validator (the same parse with
	// its options, key lookup and claim checks), without HTTP or Redis.
	Validator cpuCost
}

// measureTokenVerify measures verifying tok, a token the server issued,
// with pub and with the server's validator over the key directory.
func measureTokenVerify(ctx context.Context, alg, tok string, pub crypto.PublicKey, keysDir, issuer string, d time.Duration) (verifyCosts, error) {
	var c verifyCosts
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}))
	var keyFunc jwt.Keyfunc = func(*jwt.Token) (any, error) { return pub, nil }
	var err error
	c.Bare, err = measureCPU(ctx, 100, 1_000_000, d, func() error {
		var claims jwt.RegisteredClaims
		_, err := parser.ParseWithClaims(tok, &claims, keyFunc)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("bare %s verify: %w", alg, err)
	}
	ks, err := signer.LoadDir(keysDir)
	if err != nil {
		return c, err
	}
	v := &accesstoken.Validator{Keys: signer.Static(ks), Issuer: issuer}
	c.Validator, err = measureCPU(ctx, 100, 1_000_000, d, func() error {
		_, err := v.Validate(tok)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("accesstoken.Validator %s: %w", alg, err)
	}
	return c, nil
}
