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
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"
)

const devAlicePassword = "wonderland-rabbit-42"

// devKubectlObjects are alice, her password and the public client kubectl,
// whose tokens are for the audience kubernetes.
var devKubectlObjects = map[string]string{
	"alice.yaml": `apiVersion: authstack.dev/v1alpha1
kind: AuthUser
metadata: {name: alice}
spec:
  passwordSecretRef: {name: alice-password, key: password}
  groups: [readers]
`,
	"secret.yaml": `apiVersion: v1
kind: Secret
metadata: {name: alice-password}
stringData: {password: ` + devAlicePassword + `}
`,
	"kubectl.yaml": `apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: kubectl}
spec:
  grantTypes: [password, refresh_token]
  audiences: [kubernetes]
`,
}

// startDev runs `authstack dev` on devKubectlObjects and returns its
// (http) issuer.
func startDev(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range devKubectlObjects {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	issuer, _ := runDev(t, "-f", dir, "--argon2-memory", "1024", "--hash-cost-factor", "0")
	return issuer
}

// run runs the authstack command line and returns its stdout, stderr and
// error.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// loginEnv is kubectl's environment for a plugin without a terminal, a
// cache directory of the test's own, and password for AUTHSTACK_PASSWORD.
func loginEnv(t *testing.T, password string) string {
	t.Helper()
	cache := t.TempDir()
	t.Setenv("KUBECACHEDIR", cache)
	t.Setenv("AUTHSTACK_PASSWORD", password)
	t.Setenv("KUBERNETES_EXEC_INFO", `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)
	return cache
}

// `authstack login` against `authstack dev`, as kubectl runs it: an
// ExecCredential on stdout, the cache in $KUBECACHEDIR/authstack; then
// `authstack logout`, twice.
func TestLoginAndLogoutCommands(t *testing.T) {
	issuer := startDev(t)
	cache := loginEnv(t, devAlicePassword)
	login := []string{"login", "--server", issuer, "--client-id", "kubectl", "--username", "alice", "--insecure-allow-http"}
	out, _, err := run(t, login...)
	if err != nil {
		t.Fatalf("login: %s", errorLine(err))
	}
	var ec clientauthv1.ExecCredential
	if err := json.Unmarshal([]byte(out), &ec); err != nil || ec.Status == nil || ec.Status.Token == "" || ec.Status.ExpirationTimestamp == nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "authstack", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}

	// The same login, cached, needs no password.
	t.Setenv("AUTHSTACK_PASSWORD", "")
	again, _, err := run(t, login...)
	if err != nil || again != out {
		t.Errorf("cached login: %v, %q", err, again)
	}

	logout := []string{"logout", "--server", issuer, "--client-id", "kubectl", "--username", "alice", "--insecure-allow-http"}
	out, _, err = run(t, logout...)
	if err != nil || !strings.Contains(out, "logged out alice") {
		t.Fatalf("logout: %q, %v", out, err)
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "authstack", "*.json")); len(files) != 0 {
		t.Errorf("cache files after logout: %v", files)
	}
	out, _, err = run(t, logout...)
	if err != nil || !strings.Contains(out, "nothing to revoke") {
		t.Errorf("second logout: %q, %v", out, err)
	}
}

// The errors kubectl shows its user, as Execute prints them.
func TestLoginCommandErrors(t *testing.T) {
	issuer := startDev(t)
	args := func(more ...string) []string {
		return append([]string{"login", "--server", issuer, "--client-id", "kubectl", "--username", "alice"}, more...)
	}
	cache := loginEnv(t, "not-the-password")
	for _, tc := range []struct {
		name     string
		password string
		args     []string
		want     string
	}{
		{"wrong password", "not-the-password", args("--insecure-allow-http"), "authstack: the username or password is wrong"},
		{"no password, no terminal", "", args("--insecure-allow-http"), "authstack: a password is needed and kubectl runs without a terminal: set AUTHSTACK_PASSWORD, or run kubectl in a terminal"},
		{"plain http", devAlicePassword, args(), "authstack: " + issuer + " is plain http"},
		{"missing flags", devAlicePassword, []string{"login", "--server", issuer}, "authstack: --server, --client-id and --username are required"},
	} {
		t.Setenv("AUTHSTACK_PASSWORD", tc.password)
		_, _, err := run(t, tc.args...)
		if err == nil || !strings.HasPrefix(errorLine(err), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "authstack", "*.json")); len(files) != 0 {
		t.Errorf("a failed login wrote the cache: %v", files)
	}
}

// `authstack kubeconfig` runs this binary with absolute paths, and prints
// a kubeconfig clientcmd loads and validates.
func TestKubeconfigCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("ca.pem", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "kubeconfig", "--server", "https://auth.example.test", "--client-id", "kubectl", "--username", "alice",
		"--certificate-authority", "ca.pem", "--cluster-server", "https://k8s.example.test:6443", "--name", "prod")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Fatalf("clientcmd.Validate: %v\n%s", err, out)
	}
	exec := cfg.AuthInfos["prod"].Exec
	self, _ := os.Executable()
	if exec.Command != self || !strings.Contains(strings.Join(exec.Args, " "), "--certificate-authority "+filepath.Join(dir, "ca.pem")) {
		t.Errorf("exec: %s %v", exec.Command, exec.Args)
	}

	out, _, err = run(t, "kubeconfig", "--server", "https://auth.example.test", "--certificate-authority", "ca.pem", "--authentication-config", "--prefix", "corp/")
	if err != nil || !strings.Contains(out, "kind: AuthenticationConfiguration") || !strings.Contains(out, "MIIB") || !strings.Contains(out, "prefix: corp/") {
		t.Errorf("authentication config: %v\n%s", err, out)
	}
	// A prefix that lets an AuthUser be one of Kubernetes' own names or
	// groups (none, system:serviceaccount:…), or no audience, is refused.
	for _, args := range [][]string{{"--prefix", ""}, {"--prefix", "system:serviceaccount:kube-system:"}, {"--prefix", "System:"}, {"--audience", ""}} {
		if out, _, err := run(t, append([]string{"kubeconfig", "--server", "https://auth.example.test", "--authentication-config"}, args...)...); err == nil {
			t.Errorf("%q accepted:\n%s", args, out)
		}
	}
	out, _, err = run(t, "kubeconfig", "--server", "https://auth.example.test/auth", "--webhook-config")
	if err != nil || !strings.Contains(out, "server: https://auth.example.test/auth/tokenreview") {
		t.Errorf("webhook config: %v\n%s", err, out)
	}
	if _, _, err := run(t, "kubeconfig", "--server", "https://auth.example.test", "--webhook-config", "--authentication-config"); err == nil {
		t.Error("both documents at once")
	}
}
