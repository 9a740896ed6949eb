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

// Package authtest is the test kit the packages' tests share: cheap hash
// parameters, ephemeral signing keys, a goroutine-safe log sink, free
// loopback addresses and a poll for asynchronous effects. Only tests,
// test/ and hack/ import it.
package authtest

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
)

// FastParams are argon2id parameters cheap enough for a test to hash with
// freely: the smallest memory and time the encoding allows. Never use them
// outside tests.
var FastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hash is the PHC string of pw under FastParams.
func Hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := FastParams.Hash([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Key is a new signing key of alg (signer.AlgES256 and so on).
func Key(t testing.TB, alg string) *signer.Key {
	t.Helper()
	k, err := signer.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// KeySet is a key set whose active key is a new key of alg, with the
// other keys (if any) accepted beside it.
func KeySet(t testing.TB, alg string, others ...*signer.Key) *signer.KeySet {
	t.Helper()
	ks, err := signer.NewKeySet(Key(t, alg), others...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// SyncBuffer is a log sink that several goroutines may write while a test
// reads it.
type SyncBuffer struct {
	// Max, when set, bounds what is kept: writes beyond it are dropped
	// (and reported written), so a misbehaving child process cannot fill
	// memory.
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Max > 0 && s.b.Len() > s.Max {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreePort is a loopback port nothing listens on at the moment of the
// call. Another process may take it before the caller does, so only use it
// for a child process that must be told its port in advance (and retry
// when the child cannot bind it); a listener in the test itself listens on
// port 0 instead.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreeAddr is FreePort as a 127.0.0.1 host:port.
func FreeAddr() (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// MustFreeAddr is FreeAddr for a test: it fails the test on error.
func MustFreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// PEM is k's private key as the PKCS #8 PEM block a key directory holds.
func PEM(t testing.TB, k *signer.Key) []byte {
	t.Helper()
	b, err := k.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Eventually polls cond until it holds, failing the test after 10 s: for
// effects that propagate asynchronously (a mirror catching up, keys
// refetched). The limit only bounds a hung test; nothing is timed.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
