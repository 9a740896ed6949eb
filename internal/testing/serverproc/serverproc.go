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

// Package serverproc runs `authstack server` processes for the multi-replica
// tests and the benchmarks: the real binary, on free ports of 127.0.0.1,
// with a fresh ES256 signing key shared by all replicas of a test.
package serverproc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// Server is one running `authstack server`.
type Server struct {
	// URL is the API base (http://127.0.0.1:port, https:// from
	// StartTLS), Ops the metrics base (always http://).
	URL, Ops string
	// TLS is the API's certificate (its files, and Pool to trust it) when
	// started with StartTLS; nil otherwise.
	TLS  *authtest.ServingCert
	Log  string // path of its log file
	cmd  *exec.Cmd
	done chan struct{}
}

// Build compiles the authstack binary from the module root into dir.
func Build(root, dir string) (string, error) {
	bin := filepath.Join(dir, "authstack")
	return bin, GoBuild(root, ".", bin)
}

// GoBuild builds the main package pkg of the module at root into out as
// make build does (static, -trimpath), so every test's build and make
// build's share one build cache.
func GoBuild(root, pkg, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// BuildForTest builds the binary of the module this package belongs to
// into a temporary directory of t and returns its path and that directory.
func BuildForTest(t testing.TB) (bin, dir string) {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output() // the module of the test's directory
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	bin, err = Build(filepath.Dir(strings.TrimSpace(string(gomod))), dir)
	if err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

// WriteKey writes a fresh ES256 active.pem into dir.
func WriteKey(dir string) error {
	_, err := WriteKeyOf(dir, signer.AlgES256)
	return err
}

// WriteKeyOf writes a fresh active.pem of alg into dir, creating dir, and
// returns the key.
func WriteKeyOf(dir, alg string) (*signer.Key, error) {
	k, err := signer.Generate(alg)
	if err != nil {
		return nil, err
	}
	data, err := k.EncodePEM()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return k, os.WriteFile(filepath.Join(dir, signer.ActiveFile), data, 0o600)
}

// Start runs bin server with the given Redis URL, issuer and key directory,
// plus extra flags, logging to dir/name.log, and waits until /readyz
// answers 200.
func Start(bin, dir, name, redisURL, issuer, keys string, env []string, extra ...string) (*Server, error) {
	return start(bin, dir, name, redisURL, issuer, keys, env, nil, extra)
}

// StartTLS is Start with the API on HTTPS: a fresh self-signed certificate
// for 127.0.0.1, written into dir/name-tls, is passed as --tls-cert-file
// and --tls-key-file. The Server's URL is https and its TLS trusts it.
func StartTLS(bin, dir, name, redisURL, issuer, keys string, env []string, extra ...string) (*Server, error) {
	tlsDir := filepath.Join(dir, name+"-tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return nil, err
	}
	cert, err := authtest.WriteTLSPair(tlsDir)
	if err != nil {
		return nil, err
	}
	return start(bin, dir, name, redisURL, issuer, keys, env, cert,
		append([]string{"--tls-cert-file", cert.CertFile, "--tls-key-file", cert.KeyFile}, extra...))
}

func start(bin, dir, name, redisURL, issuer, keys string, env []string, cert *authtest.ServingCert, extra []string) (*Server, error) {
	// Both ports are held until both are chosen, so they differ.
	la, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		la.Close()
		return nil, err
	}
	api, ops := la.Addr().String(), lo.Addr().String()
	la.Close()
	lo.Close()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--addr", api, "--metrics-addr", ops, "--redis-url", redisURL,
		"--issuer", issuer, "--allow-http-issuer", "--signing-keys", keys, "--shutdown-delay", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	s := &Server{URL: "http://" + api, Ops: "http://" + ops, TLS: cert, Log: logPath, cmd: cmd, done: make(chan struct{})}
	if cert != nil {
		s.URL = "https://" + api
	}
	go func() { _ = cmd.Wait(); f.Close(); close(s.done) }()
	if err := s.waitReady(60 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func (s *Server) waitReady(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case <-s.done:
			return errors.New("exited before it was ready")
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Ops+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not ready in time")
}

// Client is an HTTP client for URL: one that trusts TLS when it is set,
// http.DefaultClient otherwise.
func (s *Server) Client() *http.Client {
	if s.TLS == nil {
		return http.DefaultClient
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.TLS.Pool(), MinVersion: tls.VersionTLS12}}}
}

// PID is the process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends the process with SIGTERM (SIGKILL after 20 s) and waits.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
