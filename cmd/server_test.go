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
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

func writeKey(t *testing.T, path string, key any) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

func kids(t *testing.T, base string) []string {
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	getJSON(t, base+"/.well-known/jwks.json", &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Alg+":"+k.Kid)
	}
	return out
}

// redisWithErin starts a redis-server holding the user erin (password
// pw-of-erin) under the key prefix "e2e" and returns its URL.
func redisWithErin(t *testing.T) string {
	t.Helper()
	rs := redistest.Start(t)
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: rs.URL(), KeyPrefix: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fast := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, _ := fast.Hash([]byte("pw-of-erin"))
	if err := st.PutUser(t.Context(), store.User{Username: "erin", PasswordHash: hash, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	return rs.URL()
}

// startServer runs `authstack server` on redisURL with the key directory
// dir, re-read every 100 ms, until the test ends. It returns the API's
// base URL, the ops listener's address, and alive, which reports whether
// the server is still running.
func startServer(t *testing.T, redisURL, dir string) (base, ops string, alive func() bool) {
	t.Helper()
	addr, ops := authtest.MustFreeAddr(t), authtest.MustFreeAddr(t)
	base = "http://" + addr
	root := NewRoot()
	root.SetArgs([]string{"server", "--addr", addr, "--metrics-addr", ops, "--redis-url", redisURL, "--redis-key-prefix", "e2e",
		"--issuer", base, "--signing-keys", dir, "--signing-keys-reload-interval", "100ms", "--log-level", "error",
		"--argon2-memory", "1024", "--argon2-time", "1", "--allow-http-issuer", "--shutdown-delay", "0",
		"--audit-log", filepath.Join(t.TempDir(), "audit.log")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = root.ExecuteContext(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("server exited with %v", runErr)
		}
	})
	alive = func() bool {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	return base, ops, alive
}

// get fetches u and returns its status, body and headers.
func get(t *testing.T, u string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// loginErin asks base's /token for a password grant as erin.
func loginErin(t *testing.T, base string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"password"}, "username": {"erin"}, "password": {"pw-of-erin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}

// `authstack server` on a real redis-server and a key directory: a user
// written to Redis logs in, and a new active key in the directory is picked
// up without a restart while the old key keeps validating its tokens.
func TestServerCommandOnRedisWithKeyRotation(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, filepath.Join(dir, "active.pem"), ec)
	base, ops, _ := startServer(t, redisWithErin(t), dir)
	authtest.Eventually(t, "the server to be ready", func() bool {
		resp, err := http.Get("http://" + ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	login := func() string {
		code, body, _ := loginErin(t, base)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(body, &tok)
		if code != http.StatusOK {
			t.Fatalf("token: %d", code)
		}
		return tok.AccessToken
	}
	userinfo := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	old := login()
	if code := userinfo(old); code != http.StatusOK {
		t.Fatalf("userinfo: %d", code)
	}
	before := kids(t, base)
	if len(before) != 1 || !strings.HasPrefix(before[0], "ES256:") {
		t.Fatalf("jwks before rotation %v", before)
	}

	// Rotate: the EC key becomes verify-only, a new Ed25519 key signs.
	if err := os.Rename(filepath.Join(dir, "active.pem"), filepath.Join(dir, "previous.pem")); err != nil {
		t.Fatal(err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	writeKey(t, filepath.Join(dir, "active.pem"), ed)
	authtest.Eventually(t, "two keys in the JWKS", func() bool { return len(kids(t, base)) == 2 })
	fresh := login()
	var header struct {
		Alg string `json:"alg"`
	}
	hb, _ := decodeSegment(strings.Split(fresh, ".")[0])
	_ = json.Unmarshal(hb, &header)
	if header.Alg != "EdDSA" {
		t.Errorf("new token signed with %s, want EdDSA", header.Alg)
	}
	if userinfo(old) != http.StatusOK || userinfo(fresh) != http.StatusOK {
		t.Error("old or new token refused after rotation")
	}
	// The old key is removed: its tokens stop validating.
	if err := os.Remove(filepath.Join(dir, "previous.pem")); err != nil {
		t.Fatal(err)
	}
	authtest.Eventually(t, "one key in the JWKS", func() bool { return len(kids(t, base)) == 1 })
	if code := userinfo(old); code != http.StatusUnauthorized {
		t.Errorf("token of a removed key: %d", code)
	}
	resp, err := http.Get("http://" + ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `authstack_token_requests_total{grant_type="password",outcome="success"} 2`) {
		t.Error("metrics listener does not count the logins")
	}
}

// `authstack server` started before its key Secret is written (an empty
// key directory, as config/server's optional Secret volume mounts) waits
// instead of exiting: it serves its probes and metrics, /readyz says why it
// is not ready, /token and the key documents answer 503, bearer tokens are
// refused; once a key file appears it becomes ready and issues tokens.
func TestServerWaitsForSigningKeys(t *testing.T) {
	dir := t.TempDir()
	base, ops, alive := startServer(t, redisWithErin(t), dir)
	authtest.Eventually(t, "the ops listener", func() bool {
		resp, err := http.Get("http://" + ops + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// The mirror catches up with Redis soon after start: then only the keys
	// are missing.
	want := "no signing key yet in " + dir + ": waiting for the manager to write the signing-keys Secret"
	authtest.Eventually(t, "/readyz to name the missing keys", func() bool {
		_, body, _ := get(t, "http://"+ops+"/readyz")
		return strings.Contains(body, want)
	})
	if code, body, _ := get(t, "http://"+ops+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without keys: %d %s", code, body)
	}

	code, body, h := loginErin(t, base)
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil || code != http.StatusServiceUnavailable ||
		e.Error != "temporarily_unavailable" || e.Description != "signing keys not loaded yet" ||
		h.Get("Retry-After") != "1" || h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("/token without keys: %d %v %s (%v)", code, h, body, err)
	}
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration"} {
		if code, body, _ := get(t, base+path); code != http.StatusServiceUnavailable {
			t.Errorf("%s without keys: %d %s", path, code, body)
		}
	}
	if code, body, _ := get(t, base+"/userinfo", "Authorization", "Bearer a.b.c"); code != http.StatusServiceUnavailable {
		t.Errorf("/userinfo without keys: %d %s", code, body)
	}
	if !alive() {
		t.Fatal("the server exited without its keys")
	}

	// The key arrives whole, as through a Secret volume's swap.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, filepath.Join(dir, ".incoming"), ec)
	if err := os.Rename(filepath.Join(dir, ".incoming"), filepath.Join(dir, "active.pem")); err != nil {
		t.Fatal(err)
	}
	authtest.Eventually(t, "the server to be ready", func() bool {
		code, _, _ := get(t, "http://"+ops+"/readyz")
		return code == http.StatusOK
	})
	code, body, _ = loginErin(t, base)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || code != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("/token with keys: %d %s", code, body)
	}
	if code, body, _ := get(t, base+"/userinfo", "Authorization", "Bearer "+tok.AccessToken); code != http.StatusOK {
		t.Errorf("/userinfo with the new token: %d %s", code, body)
	}
	if len(kids(t, base)) != 1 {
		t.Errorf("jwks %v, want the one key", kids(t, base))
	}
}

// A key directory whose files do not make a key set is a broken
// configuration, not keys still to come: the server refuses to start.
func TestServerRefusesBadSigningKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "active.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "server", "--redis-url", redistest.Start(t).URL(), "--signing-keys", dir,
		"--issuer", "http://127.0.0.1:1", "--allow-http-issuer", "--addr", authtest.MustFreeAddr(t), "--metrics-addr", "")
	if err == nil || !strings.Contains(err.Error(), "key file active.pem") {
		t.Fatalf("server with a malformed key file: %v; want it refused at start", err)
	}
}

func decodeSegment(s string) ([]byte, error) {
	b, err := base64URL.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return b, nil
}

var base64URL = base64.RawURLEncoding

// The runtime gets one P more than the hash pool's workers, so that a
// request arriving while every worker hashes need not wait for a P; with
// fewer workers than Ps there is a spare one already.
func TestSpareProcBesideTheHashWorkers(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(procs) })
	if w := spareProc(0); w != procs || runtime.GOMAXPROCS(0) != procs+1 {
		t.Fatalf("default: %d workers, GOMAXPROCS %d; want %d, %d", w, runtime.GOMAXPROCS(0), procs, procs+1)
	}
	runtime.GOMAXPROCS(4)
	if w := spareProc(6); w != 6 || runtime.GOMAXPROCS(0) != 7 {
		t.Fatalf("6 workers on 4 Ps: %d workers, GOMAXPROCS %d; want 6, 7", w, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(4)
	if w := spareProc(2); w != 2 || runtime.GOMAXPROCS(0) != 4 {
		t.Fatalf("2 workers on 4 Ps: %d workers, GOMAXPROCS %d; want 2, 4 unchanged", w, runtime.GOMAXPROCS(0))
	}
}
