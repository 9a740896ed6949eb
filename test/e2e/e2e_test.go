//go:build e2e

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

// Package e2e runs the whole stack as a user would: a real kube-apiserver
// and etcd (the envtest binaries), the CRDs installed with kubectl, the
// authstack manager and two token servers as processes on one redis-server,
// the samples applied with kubectl, tokens fetched and revoked with curl.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/internal/testing/serverproc"
	"github.com/authstack/authstack/internal/testing/testenv"
)

const issuer = "https://auth.e2e.test"

// cluster is a test's kube-apiserver, an admin kubeconfig and kubectl.
type cluster struct {
	root, work, bin string
	env             *envtest.Environment
	kubeconfig      string
	kubectlBin      string
}

// newCluster builds the binary and starts a kube-apiserver with the CRDs.
// apiServerFlags are name=value pairs added to kube-apiserver's flags.
func newCluster(t *testing.T, apiServerFlags ...string) *cluster {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{root: root, work: t.TempDir()}
	c.bin = filepath.Join(c.work, "authstack")
	build(t, root, ".", c.bin)
	c.env = &envtest.Environment{BinaryAssetsDirectory: testenv.Assets()}
	args := c.env.ControlPlane.GetAPIServer().Configure()
	for _, f := range apiServerFlags {
		name, value, _ := strings.Cut(f, "=")
		args.Set(name, value)
	}
	if _, err := c.env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.env.Stop() })
	c.kubeconfig = c.userKubeconfig(t, envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}})
	c.kubectlBin = "kubectl"
	if _, err := exec.LookPath(c.kubectlBin); err != nil {
		c.kubectlBin = filepath.Join(testenv.Assets(), "kubectl") // built by hack/setup-envtest.sh
	}
	c.kubectl(t, "apply", "-f", "config/crd/bases/")
	c.kubectl(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	return c
}

// kubectl runs kubectl as the admin.
func (c *cluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, c.root, c.kubectlBin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

// caFile writes the API server's CA certificate to a file and returns its
// path.
func (c *cluster) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(c.work, "apiserver-ca.crt")
	if err := os.WriteFile(path, c.env.Config.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// canI asks the API server whether user may do args.
func (c *cluster) canI(user string, args ...string) bool {
	cmd := append([]string{"--kubeconfig", c.kubeconfig, "auth", "can-i"}, args...)
	out, _ := exec.Command(c.kubectlBin, append(cmd, "--as", user)...).Output()
	return strings.TrimSpace(string(out)) == "yes"
}

// userKubeconfig writes a kubeconfig for a new user of the API server.
func (c *cluster) userKubeconfig(t *testing.T, u envtest.User) string {
	t.Helper()
	user, err := c.env.ControlPlane.AddUser(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.work, u.Name+"-kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEndToEnd(t *testing.T) {
	c := newCluster(t)
	work, bin, kubeconfig, kubectlBin := c.work, c.bin, c.kubeconfig, c.kubectlBin
	kubectl := func(args ...string) string {
		t.Helper()
		return c.kubectl(t, args...)
	}

	// The manager runs as a user holding only config/rbac/role.yaml: the
	// generated least-privilege ClusterRole, and the Role that lets it write
	// the signing-keys Secret in its own namespace, are enough for
	// everything below.
	kubectl("create", "namespace", "authstack-system")
	kubectl("apply", "-f", "config/rbac/role.yaml")
	kubectl("create", "clusterrolebinding", "authstack-manager", "--clusterrole", "authstack-manager", "--user", "authstack-manager")
	kubectl("create", "rolebinding", "authstack-manager", "-n", "authstack-system", "--role", "authstack-manager", "--user", "authstack-manager")
	managerKubeconfig := c.userKubeconfig(t, envtest.User{Name: "authstack-manager"})
	if out := kubectl("auth", "can-i", "get", "secrets", "--as", "authstack-manager", "-n", "default"); strings.TrimSpace(out) != "yes" {
		t.Fatalf("the manager's role cannot read Secrets: %s", out)
	}
	for _, args := range [][]string{{"create", "pods"}, {"create", "secrets", "-n", "default"}, {"update", "secrets", "-n", "default"}} {
		cmd := append([]string{"--kubeconfig", kubeconfig, "auth", "can-i"}, args...)
		if out, _ := exec.Command(kubectlBin, append(cmd, "--as", "authstack-manager")...).Output(); strings.TrimSpace(string(out)) != "no" {
			t.Fatalf("the manager's role can %v: %s", args, out)
		}
	}

	redis := redistest.Start(t)
	keys := filepath.Join(work, "keys")
	writeSigningKey(t, keys)

	start(t, work, "manager", bin, "manager", "--kubeconfig", managerKubeconfig, "--redis-url", redis.URL(),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--epoch-check-interval", "1s",
		"--signing-keys-namespace", "authstack-system")
	var servers []string
	for _, name := range []string{"server-a", "server-b"} {
		addr := authtest.MustFreeAddr(t)
		start(t, work, name, bin, "server", "--addr", addr, "--metrics-addr", "", "--redis-url", redis.URL(),
			"--issuer", issuer, "--signing-keys", keys, "--shutdown-delay", "0s")
		servers = append(servers, "http://"+addr)
	}
	for _, s := range servers {
		waitHTTP(t, s+"/readyz")
	}

	kubectl("apply", "-f", "config/samples/")
	kubectl("wait", "--for=condition=Ready", "authuser", "--all", "--timeout=120s")
	kubectl("wait", "--for=condition=Ready", "authclient", "--all", "--timeout=60s")
	if out := kubectl("get", "authusers"); !strings.Contains(out, "Synced") {
		t.Fatalf("kubectl get authusers does not show the reason:\n%s", out)
	}

	// A token from server A works on server B: the same Redis, the same keys.
	tok := token(t, servers[0], "alice", "wonderland-rabbit-42")
	if code := userinfo(t, servers[1], tok); code != "200" {
		t.Fatalf("alice's token from server A on server B: %s", code)
	}
	bobTok := token(t, servers[1], "bob", "builder-bob-77")
	if code := userinfo(t, servers[0], bobTok); code != "200" {
		t.Fatalf("bob's token (password hash Secret) on server A: %s", code)
	}
	// Revoked with curl on server A, refused by server B.
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-d", "client_id=default", "--data-urlencode", "token="+bobTok,
		servers[0]+"/revoke"); code != "200" {
		t.Fatalf("revoke on server A: %s", code)
	}
	eventually(t, "server B to refuse the revoked token", func() bool { return userinfo(t, servers[1], bobTok) == "401" })

	// The manager created the signing keys in its namespace, with its
	// namespaced Role only.
	eventually(t, "the signing-keys Secret", func() bool {
		out, err := exec.Command(kubectlBin, "--kubeconfig", kubeconfig, "get", "secret", "authstack-signing-keys",
			"-n", "authstack-system", "-o", "jsonpath={.data.active\\.pem}").Output()
		return err == nil && len(out) > 100
	})

	kubectl("delete", "authuser", "alice", "--wait=true", "--timeout=60s")
	for _, s := range servers {
		eventually(t, s+" to refuse a deleted user's token", func() bool { return userinfo(t, s, tok) == "401" })
		if code := tokenStatus(t, s, "alice", "wonderland-rabbit-42"); code != "400" {
			t.Errorf("%s: deleted user's password: %s", s, code)
		}
	}
}

// eventually polls cond for up to 2 s: a change reaches each server's
// revocation mirror a moment after it is written.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs a command in dir and returns its standard output.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), stderr.String())
	}
	return out.String()
}

// start runs a long-lived process, logging to work/name.log, stopped with
// SIGTERM at cleanup; its log is printed when the test fails.
func start(t *testing.T, work, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(work, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		f.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", name, data)
		}
	})
}

func writeSigningKey(t *testing.T, dir string) {
	t.Helper()
	if err := serverproc.WriteKey(dir); err != nil {
		t.Fatal(err)
	}
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if out, err := exec.CommandContext(ctx, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url).Output(); err == nil && string(out) == "200" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not become ready", url)
}

// curl runs curl and returns its output; -w appends the status code.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-s", "--max-time", "10"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	return string(out)
}

func tokenStatus(t *testing.T, server, user, pw string) string {
	return curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-d", "grant_type=password", "-d", "username="+user,
		"--data-urlencode", "password="+pw, server+"/token")
}

func token(t *testing.T, server, user, pw string) string {
	t.Helper()
	body := curl(t, "-d", "grant_type=password", "-d", "username="+user, "--data-urlencode", "password="+pw, server+"/token")
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token for %s from %s: %s", user, server, body)
	}
	return tr.AccessToken
}

func userinfo(t *testing.T, server, tok string) string {
	return curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+tok, server+"/userinfo")
}

// A manager serving one tenant namespace, with the RBAC config/namespaced
// gives it (a RoleBinding there, and cluster-wide reads of namespaces and
// TenancyPolicies only) and a Secret selector: it serves team-a's users,
// leaves team-b's alone, reads only labelled Secrets, and follows a
// TenancyPolicy.
func TestEndToEndNamespacedManager(t *testing.T) {
	c := newCluster(t)
	kubectl := func(args ...string) string {
		t.Helper()
		return c.kubectl(t, args...)
	}
	for _, ns := range []string{"authstack-system", "team-a", "team-b"} {
		kubectl("create", "namespace", ns)
	}
	kubectl("label", "namespace", "team-a", "tenant=team-a")
	// config/namespaced's RBAC, bound to a user instead of the ServiceAccount.
	kubectl("apply", "-f", "config/rbac/role.yaml", "-f", "config/namespaced/cluster_reads.yaml")
	kubectl("create", "clusterrolebinding", "authstack-manager-reads", "--clusterrole", "authstack-manager-cluster-reads", "--user", "authstack-manager")
	kubectl("create", "rolebinding", "authstack-manager", "-n", "team-a", "--clusterrole", "authstack-manager", "--user", "authstack-manager")
	kubectl("create", "rolebinding", "authstack-manager", "-n", "authstack-system", "--role", "authstack-manager", "--user", "authstack-manager")
	if c.canI("authstack-manager", "get", "secrets", "-n", "team-b") || !c.canI("authstack-manager", "list", "secrets", "-n", "team-a") {
		t.Fatal("the namespaced RBAC does not confine Secrets to team-a")
	}
	managerKubeconfig := c.userKubeconfig(t, envtest.User{Name: "authstack-manager"})

	redis := redistest.Start(t)
	keys := filepath.Join(c.work, "keys")
	writeSigningKey(t, keys)
	start(t, c.work, "manager", c.bin, "manager", "--kubeconfig", managerKubeconfig, "--redis-url", redis.URL(),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--signing-keys-namespace", "authstack-system",
		"--namespace", "team-a", "--secret-selector", "authstack.dev/credentials=true")
	addr := authtest.MustFreeAddr(t)
	start(t, c.work, "server", c.bin, "server", "--addr", addr, "--metrics-addr", "", "--redis-url", redis.URL(),
		"--issuer", issuer, "--signing-keys", keys, "--shutdown-delay", "0s")
	server := "http://" + addr
	waitHTTP(t, server+"/readyz")

	for _, ns := range []string{"team-a", "team-b"} {
		kubectl("apply", "-n", ns, "-f", "config/samples/")
	}
	// The samples' Secrets carry no label: to the manager they do not exist.
	kubectl("wait", "-n", "team-a", "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=SecretNotFound", "authuser/alice", "--timeout=60s")
	kubectl("label", "-n", "team-a", "secret", "alice-password", "authstack.dev/credentials=true")
	kubectl("wait", "-n", "team-a", "--for=condition=Ready", "authuser/alice", "--timeout=60s")
	tok := token(t, server, "alice", "wonderland-rabbit-42")
	if code := userinfo(t, server, tok); code != "200" {
		t.Fatalf("alice's token: %s", code)
	}
	// team-b is not served: its objects get no status at all.
	if out := kubectl("get", "authuser", "alice", "-n", "team-b", "-o", "jsonpath={.status}"); strings.TrimSpace(out) != "" {
		t.Fatalf("a namespace the manager does not serve got a status: %s", out)
	}
	// A TenancyPolicy for team-a that does not allow "alice" takes her
	// username away, and her token with it.
	kubectl("apply", "-f", "config/samples/tenancy/")
	kubectl("wait", "-n", "team-a", "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=NotAllowed", "authuser/alice", "--timeout=60s")
	eventually(t, "the token of a user the policy refuses to be refused", func() bool { return userinfo(t, server, tok) == "401" })
	if code := tokenStatus(t, server, "alice", "wonderland-rabbit-42"); code != "400" {
		t.Fatalf("a user the policy refuses logs in: %s", code)
	}
}

// build builds the main package pkg into out as make build does
// (serverproc.GoBuild).
func build(t *testing.T, root, pkg, out string) {
	t.Helper()
	if err := serverproc.GoBuild(root, pkg, out); err != nil {
		t.Fatal(err)
	}
}
