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
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// stopGrace is how long a child gets to exit after SIGTERM before it is
// killed. Nothing of a child's state is kept, so there is no point in
// waiting out the server's shutdown delay and grace.
const stopGrace = 200 * time.Millisecond

// authServer is the authstack binary serving on 127.0.0.1.
type authServer struct {
	*benchkit.Child
	base    string // API base URL (plain HTTP on 127.0.0.1)
	issuer  string // https://ADDR: the server requires an https issuer; it is only a name here
	ops     string // operations base URL (/metrics, /readyz)
	cmdline string
}

// startAuthServer runs `authstack server` on free ports with the given key
// directory and extra flags, and waits until /readyz answers 200.
func startAuthServer(ctx context.Context, binary, redisURL, keysDir string, extra ...string) (*authServer, error) {
	var errs []error
	for range 3 {
		port, err := authtest.FreePort()
		if err != nil {
			return nil, err
		}
		opsPort, err := authtest.FreePort()
		if err != nil {
			return nil, err
		}
		addr, opsAddr := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", opsPort)
		// The issuer is only the iss claim and the base of the metadata
		// URLs; the server requires https there (RFC 8414) and still serves
		// plain HTTP on --addr, which is what the load goes to.
		issuer := "https://" + addr
		args := []string{"server", "--addr", addr, "--metrics-addr", opsAddr,
			"--redis-url", redisURL, "--issuer", issuer,
			"--signing-keys", keysDir, "--log-level", "error"}
		args = append(args, extra...)
		c, err := benchkit.Start("authstack", binary, args...)
		if err != nil {
			return nil, err
		}
		s := &authServer{Child: c, base: "http://" + addr, issuer: issuer, ops: "http://" + opsAddr,
			cmdline: binary + " " + strings.Join(args, " ")}
		if err := s.waitReady(ctx); err != nil {
			c.Stop(stopGrace)
			errs = append(errs, err)
			if strings.Contains(c.Output(), "address already in use") {
				continue
			}
			break
		}
		return s, nil
	}
	return nil, errors.Join(errs...)
}

func (s *authServer) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(benchkit.ReadyTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ops+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		if s.Exited() {
			return fmt.Errorf("authstack server exited: %v\n%s", s.Err(), s.Output())
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("authstack server not ready: %w\n%s", err, s.Output())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// logLines counts the lines the server has logged (at --log-level error,
// every line is an error).
func (s *authServer) logLines() int {
	return strings.Count(s.Output(), "\n")
}

// rusage returns the user+system CPU time of who (RUSAGE_SELF or
// rusageThread).
func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(fmt.Sprintf("getrusage(%d): %v", who, err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is RUSAGE_THREAD (Linux): the calling thread only.
const rusageThread = 1

// selfCPU is this process's CPU time, all threads.
func selfCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// selfSys returns the system (kernel) part of selfCPU and the minor page
// faults of this process so far.
func selfSys() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprintf("getrusage: %v", err))
	}
	return time.Duration(ru.Stime.Nano()), ru.Minflt
}

// threadCPU is the calling thread's CPU time; lock the goroutine to its
// thread around the measured interval.
func threadCPU() time.Duration { return rusage(rusageThread) }

// cpuMeter measures the CPU of the benchmark, the token server and Redis
// over one interval.
type cpuMeter struct {
	server, redis int // pids
	s0, r0        benchkit.CPU
	cs0           int64
	b0            time.Duration
	start         time.Time
}

type cpuSample struct {
	Wall, Server, Redis, Bench time.Duration
	ServerSys                  time.Duration // the system part of Server
	// ServerFaults and ServerSwitches are the server's minor page faults
	// and context switches.
	ServerFaults, ServerSwitches int64
}

func (a cpuSample) add(b cpuSample) cpuSample {
	return cpuSample{
		Wall: a.Wall + b.Wall, Server: a.Server + b.Server, Redis: a.Redis + b.Redis,
		Bench: a.Bench + b.Bench, ServerSys: a.ServerSys + b.ServerSys,
		ServerFaults: a.ServerFaults + b.ServerFaults, ServerSwitches: a.ServerSwitches + b.ServerSwitches,
	}
}

func startCPUMeter(server, redis int) (*cpuMeter, error) {
	m := &cpuMeter{server: server, redis: redis}
	var err1, err2, err3 error
	m.cs0, err3 = benchkit.ReadContextSwitches(server)
	m.s0, err1 = benchkit.ReadCPU(server)
	m.r0, err2 = benchkit.ReadCPU(redis)
	m.b0, m.start = selfCPU(), time.Now()
	return m, errors.Join(err1, err2, err3)
}

func (m *cpuMeter) stop() (cpuSample, error) {
	s1, err1 := benchkit.ReadCPU(m.server)
	r1, err2 := benchkit.ReadCPU(m.redis)
	wall, bench := time.Since(m.start), selfCPU()-m.b0
	cs, err3 := benchkit.ReadContextSwitches(m.server)
	return cpuSample{
		Wall:           wall,
		Server:         s1.Total() - m.s0.Total(),
		ServerSys:      s1.System - m.s0.System,
		Redis:          r1.Total() - m.r0.Total(),
		Bench:          bench,
		ServerFaults:   s1.MinorFaults - m.s0.MinorFaults,
		ServerSwitches: cs - m.cs0,
	}, errors.Join(err1, err2, err3)
}
