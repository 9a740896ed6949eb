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

package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// The deployment tests start each deployment once and give every subtest
// its own key prefix (t.Name()). The passwords are distinctive so that a
// leak into an error message is caught.
const (
	appUser          = "authstack-app"
	appPassword      = "app-pw-7f3a9c"
	sentinelUser     = "sentinel-admin"
	sentinelPassword = "sentinel-pw-2b8e4d"
	wrongPassword    = "wrong-pw-5c1f0e"
)

var secrets = []string{appPassword, sentinelPassword, wrongPassword}

// withTLS returns o with the CA and, if clientCert, the client
// certificate of certs.
func withTLS(o Options, certs *redistest.Certs, clientCert bool) Options {
	o.TLSCAFile = certs.CAFile
	if clientCert {
		o.TLSCertFile, o.TLSKeyFile = certs.ClientCertFile, certs.ClientKeyFile
	}
	return o
}

// openStore returns a store for o, closed at cleanup.
func openStore(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := New(t.Context(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runConformance runs the shared suite on the deployment o names, with a
// key prefix per subtest.
func runConformance(t *testing.T, o Options) {
	conformance.RunTests(t, func(t *testing.T) conformance.Store {
		o := o
		o.KeyPrefix = t.Name()
		return openStore(t, o)
	})
}

// wantRefused checks that New fails with an error wrapping
// store.ErrUnavailable that names none of the test passwords.
func wantRefused(t *testing.T, o Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s, err := New(ctx, o)
	if err == nil {
		_ = s.Close()
		t.Fatal("New succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("got %v, want an error wrapping ErrUnavailable", err)
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks a password: %v", err)
		}
	}
	t.Logf("refused: %v", err)
}

// replaceUser returns u with its user info replaced.
func replaceUser(t *testing.T, rawURL, user, password string) string {
	t.Helper()
	return strings.Replace(rawURL, appUser+":"+appPassword+"@", user+":"+password+"@", 1)
}

// TestTLSDeployment runs the store on a redis-server that serves TLS only,
// requires a client certificate and an ACL user, and checks that each
// missing piece is refused.
func TestTLSDeployment(t *testing.T) {
	srv := redistest.StartTLS(t, redistest.Security{ClientCerts: true, User: appUser, Password: appPassword})
	good := withTLS(Options{URL: srv.URL()}, srv.Certs(), true)
	if !strings.HasPrefix(good.URL, "rediss://") {
		t.Fatalf("URL %s is not rediss://", good.URL)
	}

	t.Run("Conformance", func(t *testing.T) { runConformance(t, good) })

	t.Run("ServerName", func(t *testing.T) {
		o := good
		o.TLSServerName = "localhost" // in the certificate, unlike the host dialled
		if err := openStore(t, o).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	other := redistest.NewCerts(t)
	for _, tc := range []struct {
		name   string
		modify func(o *Options)
	}{
		{"WrongPassword", func(o *Options) { o.URL = replaceUser(t, o.URL, appUser, wrongPassword) }},
		{"NoPassword", func(o *Options) { o.URL = strings.Replace(o.URL, appUser+":"+appPassword+"@", "", 1) }},
		{"DefaultUser", func(o *Options) { o.URL = replaceUser(t, o.URL, "", appPassword) }},
		{"NoClientCert", func(o *Options) { o.TLSCertFile, o.TLSKeyFile = "", "" }},
		{"ClientCertOfAnotherCA", func(o *Options) { o.TLSCertFile, o.TLSKeyFile = other.ClientCertFile, other.ClientKeyFile }},
		{"WrongCA", func(o *Options) { o.TLSCAFile = other.CAFile }},
		{"SystemRoots", func(o *Options) { o.TLSCAFile = "" }},
		{"WrongServerName", func(o *Options) { o.TLSServerName = "redis.example.com" }},
		{"Plaintext", func(o *Options) {
			o.URL = "redis://" + strings.TrimPrefix(o.URL, "rediss://")
			o.TLSCAFile, o.TLSCertFile, o.TLSKeyFile = "", "", ""
		}},
	} {
		t.Run("Refused/"+tc.name, func(t *testing.T) {
			o := good
			tc.modify(&o)
			wantRefused(t, o)
		})
	}
}

// TestSentinelDeployment runs the store through three sentinels (TLS, an
// ACL user on the data nodes and the sentinels, and a second user on the
// sentinels only), then fails over and checks that the store follows the
// new primary with the data written before.
func TestSentinelDeployment(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{
		Security:     redistest.Security{TLS: true, User: appUser, Password: appPassword},
		SentinelUser: sentinelUser, SentinelPassword: sentinelPassword,
	})
	good := withTLS(Options{URL: s.URL()}, s.Certs(), false)
	if !strings.HasPrefix(good.URL, "rediss+sentinel://") {
		t.Fatalf("URL %s is not rediss+sentinel://", good.URL)
	}

	t.Run("Conformance", func(t *testing.T) { runConformance(t, good) })

	t.Run("SentinelCredentials", func(t *testing.T) {
		o := good
		o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPassword
		if err := openStore(t, o).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("Refused/WrongSentinelPassword", func(t *testing.T) {
		o := good
		o.SentinelUsername, o.SentinelPassword = sentinelUser, wrongPassword
		wantRefused(t, o)
	})
	t.Run("Refused/WrongPassword", func(t *testing.T) {
		// The sentinels let the store in; the data nodes do not.
		o := good
		o.URL = replaceUser(t, o.URL, appUser, wrongPassword)
		o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPassword
		wantRefused(t, o)
	})
	t.Run("Refused/WrongCA", func(t *testing.T) {
		o := good
		o.TLSCAFile = redistest.NewCerts(t).CAFile
		wantRefused(t, o)
	})

	// Last: it swaps the roles of the data nodes.
	t.Run("Failover", func(t *testing.T) { testFailover(t, s, good) })
}

func testFailover(t *testing.T, s *redistest.Sentinel, o Options) {
	o.KeyPrefix = t.Name()
	st := openStore(t, o)
	ctx := t.Context()
	now := time.Now()
	epoch, err := st.InitEpoch(ctx, "epoch-before-failover")
	if err != nil {
		t.Fatalf("InitEpoch: %v", err)
	}
	if err := st.PutUser(ctx, store.User{Username: "alice", PasswordHash: "hash-a"}); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	if err := st.RevokeAccessToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	s.WaitReplicated(t)
	old := s.Primary(t)
	next := s.Failover(t)
	if next == old {
		t.Fatal("Failover kept the primary")
	}

	// The first commands may meet connections to the old primary, closed
	// or now read-only; the client must settle on the new one quickly.
	const maxAttempts = 50 // 100 ms apart
	attempts := 0
	for {
		attempts++
		err := st.PutUser(ctx, store.User{Username: "bob", PasswordHash: "hash-b"})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("PutUser after failover: %v", err)
		}
		if attempts == maxAttempts {
			t.Fatalf("PutUser still failing after %d attempts: %v", attempts, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the store wrote to the new primary after %d attempt(s)", attempts)

	if n, err := next.Client().Exists(ctx, st.keys.user("bob")).Result(); err != nil || n != 1 {
		t.Errorf("bob on the new primary: EXISTS = %d, %v; want 1", n, err)
	}
	if u, err := st.GetUser(ctx, "alice"); err != nil || u.PasswordHash != "hash-a" {
		t.Errorf("alice after failover: %+v, %v", u, err)
	}
	if got, err := st.GetEpoch(ctx); err != nil || got != epoch {
		t.Errorf("epoch after failover = %q, %v; want %q (the replica had it)", got, err, epoch)
	}
	if revoked, err := st.AccessTokenRevoked(ctx, "jti-1", now); err != nil || !revoked {
		t.Errorf("jti-1 after failover: revoked = %v, %v; want true", revoked, err)
	}
}

// TestOpenSentinelDeployment runs the store through sentinels that require no
// password in front of data nodes with an ACL user, in plaintext: the
// URL's user is unknown to the sentinels, and SentinelUsername "default"
// alone connects without a password.
func TestOpenSentinelDeployment(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{
		Security:      redistest.Security{User: appUser, Password: appPassword},
		OpenSentinels: true,
	})
	o := Options{URL: s.URL(), SentinelUsername: "default", KeyPrefix: t.Name()}
	if !strings.HasPrefix(o.URL, "redis+sentinel://") {
		t.Fatalf("URL %s is not redis+sentinel://", o.URL)
	}
	st := openStore(t, o)
	if err := st.PutUser(t.Context(), store.User{Username: "alice", PasswordHash: "hash-a"}); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	if u, err := s.Primary(t).Client().Get(t.Context(), st.keys.user("alice")).Result(); err != nil || !strings.Contains(u, "hash-a") {
		t.Fatalf("alice on the primary: %q, %v", u, err)
	}

	t.Run("Refused/URLUserOnSentinels", func(t *testing.T) {
		o := o
		o.SentinelUsername = ""
		wantRefused(t, o)
	})
}

// TestClusterDeployment runs the store on a three-master Redis Cluster
// with TLS on clients and the bus, client certificates and an ACL user,
// and checks that the store's keys spread over the masters while the
// revocation state stays on one.
func TestClusterDeployment(t *testing.T) {
	c := redistest.StartCluster(t, redistest.Security{TLS: true, ClientCerts: true, User: appUser, Password: appPassword})
	good := withTLS(Options{URL: c.URL()}, c.Certs(), true)
	if !strings.HasPrefix(good.URL, "rediss+cluster://") {
		t.Fatalf("URL %s is not rediss+cluster://", good.URL)
	}

	t.Run("Conformance", func(t *testing.T) { runConformance(t, good) })

	t.Run("KeysSpread", func(t *testing.T) {
		o := good
		o.KeyPrefix = t.Name()
		st := openStore(t, o)
		ctx := t.Context()
		now := time.Now()
		for i := range 20 {
			name := "user-" + string(rune('a'+i))
			if err := st.PutUser(ctx, store.User{Username: name}); err != nil {
				t.Fatalf("PutUser: %v", err)
			}
			if err := st.PutClient(ctx, store.Client{ID: "client-" + name}); err != nil {
				t.Fatalf("PutClient: %v", err)
			}
			if err := st.CreateSession(ctx, store.Session{ID: "s-" + name, TokenHash: "h", TokenExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if err := st.RevokeAccessToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
			t.Fatalf("RevokeAccessToken: %v", err)
		}
		if users, err := st.ListUsers(ctx); err != nil || len(users) != 20 {
			t.Fatalf("ListUsers: %d users, %v; want 20", len(users), err)
		}

		prefix := st.keys.prefix + ":"
		rev := st.keys.tagged("rev")
		withKeys, withRev := 0, 0
		for i, n := range c.Nodes() {
			keys := scanKeys(t, n.Client(), prefix+"*")
			t.Logf("node %d holds %d keys", i, len(keys))
			if len(keys) > 0 {
				withKeys++
			}
			for _, k := range keys {
				if strings.HasPrefix(k, rev) {
					withRev++
					break
				}
			}
		}
		if withKeys < 2 {
			t.Errorf("the store's keys are on %d node(s), want them spread over several", withKeys)
		}
		if withRev != 1 {
			t.Errorf("the revocation keys are on %d nodes, want 1 (one hash slot)", withRev)
		}
	})

	t.Run("Refused/WrongPassword", func(t *testing.T) {
		o := good
		o.URL = replaceUser(t, o.URL, appUser, wrongPassword)
		wantRefused(t, o)
	})
	t.Run("Refused/NoClientCert", func(t *testing.T) {
		o := good
		o.TLSCertFile, o.TLSKeyFile = "", ""
		wantRefused(t, o)
	})
}

// scanKeys returns the keys matching pattern on one node.
func scanKeys(t *testing.T, c *goredis.Client, pattern string) []string {
	t.Helper()
	var out []string
	iter := c.Scan(t.Context(), 0, pattern, 1000).Iterator()
	for iter.Next(t.Context()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	return out
}
