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

// `authstack server` on a real redis-server and a key directory: a user
// written to Redis logs in, and a new active key in the directory is picked
// up without a restart while the old key keeps validating its tokens.
func TestServerCommandOnRedisWithKeyRotation(t *testing.T) {
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

	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, filepath.Join(dir, "active.pem"), ec)
	addr, ops := authtest.MustFreeAddr(t), authtest.MustFreeAddr(t)
	base := "http://" + addr
	root := NewRoot()
	root.SetArgs([]string{"server", "--addr", addr, "--metrics-addr", ops, "--redis-url", rs.URL(), "--redis-key-prefix", "e2e",
		"--issuer", base, "--signing-keys", dir, "--signing-keys-reload-interval", "100ms", "--log-level", "error",
		"--argon2-memory", "1024", "--argon2-time", "1", "--allow-http-issuer", "--shutdown-delay", "0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server exited with %v", err)
		}
	}()
	authtest.Eventually(t, "the server to be ready", func() bool {
		resp, err := http.Get("http://" + ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	login := func() string {
		resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"password"}, "username": {"erin"}, "password": {"pw-of-erin"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d", resp.StatusCode)
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

func decodeSegment(s string) ([]byte, error) {
	b, err := base64URL.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return b, nil
}

var base64URL = base64.RawURLEncoding
