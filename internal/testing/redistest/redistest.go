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

// Package redistest runs a throwaway redis-server for tests.
//
// Start launches redis-server on a free 127.0.0.1 port with persistence
// off and a temporary working directory, waits until it answers (and is
// the process it started, not another test's server) and stops it when the
// test ends. Tests that exercise outages can Stop the server and Restart
// it on the same port (with an empty data set).
//
// StartTLS, StartSentinel and StartCluster launch whole deployments with
// the same habits: a TLS-only server with an ACL user and optional client
// certificates, a primary and a replica behind three sentinels, and a
// three-master Redis Cluster, with certificates made at test time
// (NewCerts).
//
// redis-server must be on PATH; without it Start fails the test rather
// than skipping it, so that a missing dependency is never mistaken for a
// passing suite.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/testing/authtest"
)

const (
	// startAttempts bounds the retries when a free port is taken between
	// probing and redis-server binding it.
	startAttempts = 5
	// readyTimeout is generous for a loaded 2-core machine.
	readyTimeout = 20 * time.Second
)

// Server is a running (or stopped) redis-server owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int // fixed after Start, reused by Restart

	mu   sync.Mutex
	proc *process // nil while stopped
}

// Start launches a redis-server and registers its shutdown with t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found on PATH (%v); install it, e.g. apt-get install redis-server", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Stop)

	var errs []error
	for range startAttempts {
		port, err := authtest.FreePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.port = port
		if err := s.launch(); err != nil {
			errs = append(errs, err)
			continue
		}
		return s
	}
	t.Fatalf("redistest: start redis-server: %v", errors.Join(errs...))
	return nil
}

// Addr returns host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns a redis:// URL for database 0 of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop kills the server (SIGKILL, as in a crash) and waits for it to exit.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Restart stops the server if it is running and starts it again on the
// same port, with an empty data set. It retries briefly in case the port
// is still held.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for range startAttempts {
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("redistest: restart redis-server on port %d: %v", s.port, err)
}

// Client returns a go-redis client for the server, closed at cleanup.
func (s *Server) Client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// FlushAll deletes every key on the server.
func (s *Server) FlushAll() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client().FlushAll(ctx).Err(); err != nil {
		s.t.Fatalf("redistest: flushall: %v", err)
	}
}

// launch starts redis-server on s.port and waits until it answers PING.
func (s *Server) launch() error {
	p, err := startProcess(s.bin, s.dir, s.port)
	if err != nil {
		return err
	}
	if err := waitReady(func() (int, error) { return serverPID(s.Addr()) }, p); err != nil {
		p.kill()
		return fmt.Errorf("port %d: %w\n%s", s.port, err, p.output())
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitReady polls probe until the process answers, the process exits or
// readyTimeout passes. probe returns the pid of whatever answers, since
// another test's redis-server may have taken the port first.
func waitReady(probe func() (int, error), p *process) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		pid, err := probe()
		if err == nil && pid != p.cmd.Process.Pid {
			return fmt.Errorf("port taken by another redis-server (pid %d)", pid)
		}
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited: %v", p.waitErr)
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %w", readyTimeout, err)
		}
	}
}

// serverPID asks the server at addr for its process id (INFO server) on a
// fresh connection.
func serverPID(addr string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	return probePID(conn, "", "")
}
