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
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authstack/authstack/internal/manifest"
	"github.com/authstack/authstack/internal/records"
)

func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	t.Setenv("AUTHSTACK_ACCESS_TOKEN_TTL", "7m")
	t.Setenv("AUTHSTACK_TRUSTED_PROXIES", "10.0.0.0/8,192.168.0.1")
	root := NewRoot()
	var got *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "server" {
			got = c
		}
	}
	got.RunE = func(*cobra.Command, []string) error { return nil }
	root.SetArgs([]string{"server", "--issuer", "https://x"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Flags().GetDuration("access-token-ttl"); v != 7*time.Minute {
		t.Errorf("access-token-ttl from env = %v", v)
	}
	if v, _ := got.Flags().GetStringSlice("trusted-proxies"); len(v) != 2 {
		t.Errorf("trusted-proxies from env = %v", v)
	}
	if !strings.Contains(got.Flags().Lookup("redis-url").Usage, "[AUTHSTACK_REDIS_URL]") {
		t.Error("--help does not name the environment variable")
	}
	// A flag on the command line wins over the environment.
	root = NewRoot()
	for _, c := range root.Commands() {
		if c.Name() == "server" {
			got = c
		}
	}
	got.RunE = func(*cobra.Command, []string) error { return nil }
	root.SetArgs([]string{"server", "--access-token-ttl", "1m"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Flags().GetDuration("access-token-ttl"); v != time.Minute {
		t.Errorf("flag lost to env: %v", v)
	}
}

// Every flag of every command is bound to its AUTHSTACK_* variable.
func TestEveryFlagIsBoundToItsVariable(t *testing.T) {
	for _, c := range NewRoot().Commands() {
		fs := c.Flags()
		n := 0
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			n++
			t.Setenv(envName(f.Name), f.DefValue)
		})
		if n == 0 {
			continue
		}
		if err := bindEnv(fs); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" && !f.Changed {
				t.Errorf("%s --%s was not set from %s", c.Name(), f.Name, envName(f.Name))
			}
			if f.Name != "help" && !strings.Contains(f.Usage, "["+envName(f.Name)+"]") {
				t.Errorf("%s --%s: help does not name %s", c.Name(), f.Name, envName(f.Name))
			}
		})
	}
}

// runDev runs `authstack dev` on 127.0.0.1 with args until the test ends,
// and returns the issuer its welcome text names and the text's curl line.
func runDev(t *testing.T, args ...string) (issuer, curl string) {
	t.Helper()
	pr, pw := io.Pipe()
	root := NewRoot()
	root.SetOut(pw)
	// The audit trail goes to a file, not the test's output (args may name another).
	audit := filepath.Join(t.TempDir(), "audit.log")
	root.SetArgs(append([]string{"dev", "--addr", "127.0.0.1:0", "--log-level", "error", "--audit-log", audit}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev exited with %v", err)
		}
	})
	// Read the welcome text up to the curl line.
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`issuer (\S+)`).FindStringSubmatch(line); m != nil {
			issuer = m[1]
		}
		if strings.Contains(line, "curl -s") && strings.Contains(line, "/token") {
			curl = line
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if curl == "" || issuer == "" {
		t.Fatal("dev printed no issuer or no curl line")
	}
	return issuer, curl
}

func TestServerRequiresItsFlags(t *testing.T) {
	root := NewRoot()
	root.SetArgs([]string{"server"})
	root.SetOut(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--redis-url") {
		t.Fatalf("err = %v", err)
	}
}

// The README's first command: `authstack dev -f config/samples/` serves the
// samples, and the curl line it prints gets a token for alice that works on
// /userinfo.
func TestDevServesTheSamples(t *testing.T) {
	// The samples' bcrypt hash (cost 10) costs more than four times these
	// small argon2id parameters: no cap here.
	issuer, curl := runDev(t, "-f", "../config/samples/", "--argon2-memory", "1024", "--hash-cost-factor", "0")
	if !strings.Contains(curl, "username='alice'") {
		t.Fatalf("curl line %q is not for alice", curl)
	}
	pwMatch := regexp.MustCompile(`'password=([^']*)'`).FindStringSubmatch(curl)
	if pwMatch == nil {
		t.Fatalf("no password in %q", curl)
	}
	resp, err := http.PostForm(issuer+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pwMatch[1]}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sub":"alice"`) {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}

	// bob's bcrypt hash from the samples and the confidential client work too.
	form := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"builder-bob-77"}}
	req, _ = http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("billing-service", sampleClientSecret(t))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bob via billing-service: %d", resp.StatusCode)
	}
}

func sampleClientSecret(t *testing.T) string {
	t.Helper()
	objs, err := manifest.Load("../config/samples/")
	if err != nil {
		t.Fatal(err)
	}
	s, err := records.SecretValue(objs.Secret("default", "billing-service-client"), "clientSecret")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An out-of-range --argon2-threads is refused, not wrapped into range by a
// narrowing conversion (257 would otherwise become 1).
func TestArgon2ThreadsOutOfRangeIsRefused(t *testing.T) {
	for _, v := range []string{"0", "5", "257"} {
		root := NewRoot()
		root.SetArgs([]string{"dev", "-f", "../config/samples", "--argon2-threads", v, "--addr", "127.0.0.1:0", "--metrics-addr", ""})
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		// Should the value be accepted, the server runs until this ends.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := root.ExecuteContext(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "parallelism") {
			t.Errorf("--argon2-threads %s: err = %v", v, err)
		}
	}
}

// A configuration error is not waited out like an unreachable Redis: the
// manager stops at once and says why.
func TestManagerStopsOnARedisConfigurationError(t *testing.T) {
	kubeconfig := unreachableKubeconfig(t)
	done := make(chan error, 1)
	go func() {
		c := NewRoot()
		c.SetArgs([]string{"manager", "--redis-url", "redis://127.0.0.1:1/0", "--redis-tls-ca", "/nonexistent/ca.pem",
			"--kubeconfig", kubeconfig, "--metrics-bind-address", "0", "--health-probe-bind-address", "0"})
		c.SetOut(io.Discard)
		c.SetErr(io.Discard)
		done <- c.Execute()
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "TLS") {
			t.Fatalf("manager: %v, want the TLS configuration error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the manager keeps retrying a configuration error")
	}
}

// unreachableKubeconfig writes a kubeconfig whose API server nothing
// answers at, and returns its path.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
