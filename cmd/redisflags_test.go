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

package cmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

var redisConnectionFlags = []string{
	"redis-url", "redis-key-prefix", "redis-tls-ca", "redis-tls-cert", "redis-tls-key",
	"redis-tls-server-name", "redis-sentinel-username", "redis-sentinel-password",
}

func TestServerAndManagerShareTheRedisFlags(t *testing.T) {
	for _, c := range NewRoot().Commands() {
		if c.Name() != "server" && c.Name() != "manager" {
			continue
		}
		for _, name := range redisConnectionFlags {
			if c.Flags().Lookup(name) == nil {
				t.Errorf("%s has no --%s", c.Name(), name)
			}
		}
	}
}

const tlsRedisPassword = "pw-of-redis-4e7b1a"

// `authstack server` reaches a TLS-only Redis that requires a client
// certificate and an ACL user, with the URL and the CA from the
// environment as a Deployment would set them; without the client
// certificate it stops with an error that does not show the password.
func TestServerCommandOnTLSRedis(t *testing.T) {
	rs := redistest.StartTLS(t, redistest.Security{ClientCerts: true, User: "authstack", Password: tlsRedisPassword})
	certs := rs.Certs()
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, filepath.Join(dir, "active.pem"), ec)
	t.Setenv("AUTHSTACK_REDIS_URL", rs.URL())
	t.Setenv("AUTHSTACK_REDIS_TLS_CA", certs.CAFile)

	// run starts the server and waits until it is ready or has exited; it
	// returns whether it got ready and its exit.
	run := func(ctx context.Context, extra ...string) (bool, <-chan error) {
		addr, ops := authtest.MustFreeAddr(t), authtest.MustFreeAddr(t)
		root := NewRoot()
		root.SetOut(io.Discard)
		root.SetArgs(append([]string{"server", "--addr", addr, "--metrics-addr", ops, "--issuer", "http://" + addr,
			"--signing-keys", dir, "--log-level", "error", "--allow-http-issuer", "--shutdown-delay", "0",
			"--redis-tls-server-name", "localhost"}, extra...))
		done := make(chan error, 1)
		go func() { done <- root.ExecuteContext(ctx) }()
		var exited, ready bool
		authtest.Eventually(t, "the server to exit or be ready", func() bool {
			if exited = len(done) > 0; exited {
				return true
			}
			resp, err := http.Get("http://" + ops + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
			return ready
		})
		return ready, done
	}

	t.Run("ClientCertificate", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := run(ctx, "--redis-tls-cert", certs.ClientCertFile, "--redis-tls-key", certs.ClientKeyFile)
		cancel()
		err := <-done
		if !ready {
			t.Fatalf("server did not get ready: %v", err)
		}
		if err != nil {
			t.Errorf("server exited with %v", err)
		}
	})
	t.Run("NoClientCertificate", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := run(ctx)
		cancel()
		err := <-done
		if ready || err == nil {
			t.Fatalf("server got ready without a client certificate (exit %v)", err)
		}
		if strings.Contains(err.Error(), tlsRedisPassword) {
			t.Errorf("error shows the password: %v", err)
		}
		t.Logf("server refused to start: %v", err)
	})
}

// The manager connects with the same flags.
func TestManagerConnectsWithTheRedisFlags(t *testing.T) {
	rs := redistest.StartTLS(t, redistest.Security{ClientCerts: true, User: "authstack", Password: tlsRedisPassword})
	certs := rs.Certs()
	o := &managerOptions{redisURL: rs.URL(), keyPrefix: "manager", redis: redisFlags{
		tlsCA: certs.CAFile, tlsCert: certs.ClientCertFile, tlsKey: certs.ClientKeyFile,
	}}
	st, err := connectStore(t.Context(), o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("connectStore: %v", err)
	}
	defer st.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
