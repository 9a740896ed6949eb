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
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	redisstore "github.com/authstack/authstack/internal/store/redis"
)

// readyTimeout bounds how long a child gets to start answering.
const readyTimeout = 20 * time.Second

// stopGrace is how long a child gets to exit after SIGTERM before it is
// killed. Nothing of a child's state is kept, so there is no point in
// waiting out the server's shutdown delay and grace.
const stopGrace = 200 * time.Millisecond

// child is a process this benchmark started. Every child is registered in
// children and killed by killChildren, which main runs on every exit path;
// Pdeathsig kills it too should this process die without cleaning up.
type child struct {
	name    string
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{} // closed once the process has exited
	waitErr error         // valid after done is closed
}

var children struct {
	sync.Mutex
	list []*child
}

// startChild runs bin with args, its output collected in a buffer, and an
// environment without AUTHSTACK_* variables (they would set server flags).
func startChild(name, bin string, args ...string) (*child, error) {
	cmd := exec.Command(bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHSTACK_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	c := &child{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	children.Lock()
	defer children.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	children.list = append(children.list, c)
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks the process to exit with SIGTERM and kills it after grace.
func (c *child) stop(grace time.Duration) {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// killChildren kills every child still running and waits for it.
func killChildren() {
	children.Lock()
	list := children.list
	children.list = nil
	children.Unlock()
	for _, c := range list {
		if !c.exited() {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
}

// freePort asks the kernel for a free 127.0.0.1 port. Another process may
// take it before the child binds it; the starters retry then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// redisServer is a throwaway redis-server without persistence.
type redisServer struct {
	*child
	url string
}

func startRedis(ctx context.Context, bin, dir string) (*redisServer, error) {
	var errs []error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		c, err := startChild("redis-server", bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--logfile", "", "--loglevel", "warning")
		if err != nil {
			return nil, err
		}
		r := &redisServer{child: c, url: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
		if err := r.waitReady(ctx); err != nil {
			c.stop(stopGrace)
			errs = append(errs, err)
			continue
		}
		return r, nil
	}
	return nil, errors.Join(errs...)
}

func (r *redisServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := redisstore.New(pctx, redisstore.Options{URL: r.url})
		cancel()
		if err == nil {
			return st.Close()
		}
		if r.exited() {
			return fmt.Errorf("redis-server exited: %v\n%s", r.waitErr, r.out.String())
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("redis-server not ready: %w", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// authServer is the authstack binary serving on 127.0.0.1.
type authServer struct {
	*child
	base    string // API base URL (plain HTTP on 127.0.0.1)
	issuer  string // https://ADDR: the server requires an https issuer; it is only a name here
	ops     string // operations base URL (/metrics, /readyz)
	cmdline string
}

// startAuthServer runs `authstack server` on free ports with the given key
// directory, and waits until /readyz answers 200.
func startAuthServer(ctx context.Context, binary, redisURL, keysDir string) (*authServer, error) {
	var errs []error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opsPort, err := freePort()
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
		c, err := startChild("authstack", binary, args...)
		if err != nil {
			return nil, err
		}
		s := &authServer{child: c, base: "http://" + addr, issuer: issuer, ops: "http://" + opsAddr,
			cmdline: binary + " " + strings.Join(args, " ")}
		if err := s.waitReady(ctx); err != nil {
			c.stop(stopGrace)
			errs = append(errs, err)
			if strings.Contains(c.out.String(), "address already in use") {
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
	deadline := time.Now().Add(readyTimeout)
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
		if s.exited() {
			return fmt.Errorf("authstack server exited: %v\n%s", s.waitErr, s.out.String())
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("authstack server not ready: %w\n%s", err, s.out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// logLines counts the lines the server has logged (at --log-level error,
// every line is an error).
func (s *authServer) logLines() int {
	return strings.Count(s.out.String(), "\n")
}

// clockTick is the unit of utime and stime in /proc/PID/stat.
var clockTick = func() time.Duration {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if hz, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && hz > 0 {
			return time.Second / time.Duration(hz)
		}
	}
	return 10 * time.Millisecond // USER_HZ is 100 on every mainstream Linux
}()

// procCPU returns the user+system CPU time of process pid, all threads.
func procCPU(pid int) (time.Duration, error) {
	user, sys, err := procCPUSplit(pid)
	return user + sys, err
}

// procCPUSplit returns the user and the system CPU time of process pid.
func procCPUSplit(pid int) (user, sys time.Duration, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it start
	// at the last ')'. There, field 3 (state) is index 0, so utime (14) is 11.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime) * clockTick, time.Duration(stime) * clockTick, nil
}

// procMinorFaults returns the minor page faults of process pid so far (each
// one is a page the kernel had to map, and usually zero, on first touch).
func procMinorFaults(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 8 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return strconv.ParseInt(f[7], 10, 64) // minflt, field 10
}

// procCtxSwitches returns the context switches (voluntary + involuntary) of
// every thread of process pid so far.
func procCtxSwitches(pid int) (int64, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		for line := range strings.Lines(string(data)) {
			for _, k := range []string{"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"} {
				if v, ok := strings.CutPrefix(line, k); ok {
					c, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					if err == nil {
						n += c
					}
				}
			}
		}
	}
	return n, nil
}

// procStatusBytes returns a "kB" field of /proc/PID/status (VmHWM, VmRSS).
func procStatusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
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
	su0, ss0      time.Duration
	r0, b0        time.Duration
	flt0, cs0     int64
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
	var err1, err2, err3, err4 error
	m.flt0, err3 = procMinorFaults(server)
	m.cs0, err4 = procCtxSwitches(server)
	m.su0, m.ss0, err1 = procCPUSplit(server)
	m.r0, err2 = procCPU(redis)
	m.b0, m.start = selfCPU(), time.Now()
	return m, errors.Join(err1, err2, err3, err4)
}

func (m *cpuMeter) stop() (cpuSample, error) {
	su1, ss1, err1 := procCPUSplit(m.server)
	r1, err2 := procCPU(m.redis)
	wall, bench := time.Since(m.start), selfCPU()-m.b0
	flt, err3 := procMinorFaults(m.server)
	cs, err4 := procCtxSwitches(m.server)
	return cpuSample{
		Wall:           wall,
		Server:         su1 - m.su0 + ss1 - m.ss0,
		ServerSys:      ss1 - m.ss0,
		Redis:          r1 - m.r0,
		Bench:          bench,
		ServerFaults:   flt - m.flt0,
		ServerSwitches: cs - m.cs0,
	}, errors.Join(err1, err2, err3, err4)
}

// rssSampler records the largest VmRSS of a process, sampled every 50ms,
// as a cross-check of the kernel's VmHWM.
type rssSampler struct {
	stopc chan struct{}
	done  chan struct{}
	max   int64
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := procStatusBytes(pid, "VmRSS"); err == nil {
				s.max = max(s.max, v)
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() int64 {
	close(s.stopc)
	<-s.done
	return s.max
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 4<<20 { // bounded: a misbehaving child cannot fill memory
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
