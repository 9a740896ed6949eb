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

// Package keyrotation runs two `authstack server` processes on a signing-key
// directory laid out as the kubelet projects a Secret volume, and steps it
// through a rotation as the manager writes it (docs/signing-keys.md):
// publish next.pem, promote it, drop the retired key. The servers pick up
// each step without a restart; a token signed before the rotation validates
// until its key is dropped, and one signed after validates on both.
package keyrotation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

const (
	issuer    = "http://auth.keyrotation.test"
	alicePW   = "alice-keyrotation-password"
	svcSecret = "svc-secret-with-more-than-32-characters"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// project writes data into dir the way the kubelet updates a Secret
// volume: the files go into a new hidden directory, the "..data" symlink
// is swapped to it atomically (rename), each key is a symlink through
// "..data", and the links and directory of the previous version are
// removed afterwards.
func project(t *testing.T, dir string, data map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	version := fmt.Sprintf("..%d", time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(dir, version), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range data {
		if err := os.WriteFile(filepath.Join(dir, version, name), v, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(version, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); !strings.HasPrefix(name, ".") && data[name] == nil {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range data {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			t.Fatal(err)
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

func newKey(t *testing.T) (*signer.Key, []byte) {
	t.Helper()
	k := authtest.Key(t, signer.AlgES256)
	return k, authtest.PEM(t, k)
}

type env struct {
	t       *testing.T
	servers []*serverproc.Server
	client  *http.Client
}

func (e *env) login(s *serverproc.Server) string {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/token", strings.NewReader(url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", svcSecret)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tk struct {
		Access string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tk); err != nil || resp.StatusCode != http.StatusOK || tk.Access == "" {
		e.t.Fatalf("login on %s: %d %v", s.URL, resp.StatusCode, err)
	}
	return tk.Access
}

func (e *env) verify(s *serverproc.Server, tok string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/verify", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// jwks returns the kids s serves.
func (e *env) jwks(s *serverproc.Server) []string {
	e.t.Helper()
	resp, err := e.client.Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

// kidOf is the kid in a JWT's header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// eventually polls cond until it holds, for up to 10 s.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sorted(kids ...string) []string {
	slices.Sort(kids)
	return kids
}

func TestServersFollowARotation(t *testing.T) {
	bin, work := serverproc.BuildForTest(t)
	redis := redistest.Start(t)
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash([]byte(alicePW))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		st.PutUser(t.Context(), store.User{Username: "alice", PasswordHash: hash, Scopes: []string{"read"}, Source: "t/alice"}),
		st.PutClient(t.Context(), store.Client{ID: "svc", SecretHash: store.HashClientSecret(svcSecret),
			GrantTypes: []string{"password"}, Audiences: []string{issuer}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	keys := filepath.Join(work, "keys")
	a, aPEM := newKey(t)
	b, bPEM := newKey(t)
	project(t, keys, map[string][]byte{"active.pem": aPEM, "keys.json": []byte("{}")})

	e := &env{t: t, client: &http.Client{Timeout: 10 * time.Second}}
	for _, name := range []string{"a", "b"} {
		s, err := serverproc.Start(bin, work, name, redis.URL(), issuer, keys, nil,
			"--signing-keys-reload-interval", "100ms", "--argon2-memory", "1024", "--argon2-time", "1", "--log-level", "debug")
		if err != nil {
			t.Fatal(err)
		}
		e.servers = append(e.servers, s)
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				data, _ := os.ReadFile(s.Log)
				t.Logf("--- server %s log ---\n%s", name, data)
			}
		})
	}
	s1 := e.servers[0]

	before := e.login(s1)
	if kidOf(t, before) != a.ID {
		t.Fatal("the first token is not signed with active.pem")
	}

	// Publish: both servers serve next.pem in JWKS, and still sign with A.
	project(t, keys, map[string][]byte{"active.pem": aPEM, "next.pem": bPEM, "keys.json": []byte("{}")})
	for _, s := range e.servers {
		e.eventually(s.URL+" serving the next key", func() bool { return slices.Equal(e.jwks(s), sorted(a.ID, b.ID)) })
		if kid := kidOf(t, e.login(s)); kid != a.ID {
			t.Fatalf("%s signs with the next key before its promotion", s.URL)
		}
	}

	// Promote: s1 signs with B once it reloaded; s2 validates its tokens,
	// and the token signed before the rotation still validates on both.
	project(t, keys, map[string][]byte{"active.pem": bPEM, "previous-" + a.ID + ".pem": aPEM, "keys.json": []byte("{}")})
	var after string
	e.eventually("s1 signing with the promoted key", func() bool {
		after = e.login(s1)
		return kidOf(t, after) == b.ID
	})
	for _, s := range e.servers {
		if code := e.verify(s, after); code != http.StatusOK {
			t.Fatalf("token signed after the rotation: %s answers %d", s.URL, code)
		}
		if code := e.verify(s, before); code != http.StatusOK {
			t.Fatalf("token signed before the rotation: %s answers %d", s.URL, code)
		}
		if got := e.jwks(s); !slices.Equal(got, sorted(a.ID, b.ID)) {
			t.Fatalf("%s JWKS after promotion: %v", s.URL, got)
		}
	}

	// Drop the retired key: its tokens no longer validate (which is why the
	// manager keeps it for the longest token lifetime).
	project(t, keys, map[string][]byte{"active.pem": bPEM, "keys.json": []byte("{}")})
	for _, s := range e.servers {
		e.eventually(s.URL+" dropping the retired key", func() bool { return e.verify(s, before) == http.StatusUnauthorized })
		if code := e.verify(s, after); code != http.StatusOK {
			t.Fatalf("token of the active key after the drop: %s answers %d", s.URL, code)
		}
	}
}
