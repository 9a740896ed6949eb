//go:build e2e

// Package e2e runs the whole stack as a user would: a real kube-apiserver
// and etcd (the envtest binaries), the CRDs installed with kubectl, the
// authstack manager and two token servers as processes on one redis-server,
// the samples applied with kubectl, tokens fetched and revoked with curl.
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/authserver/store/redistest"
	"github.com/authstack/authstack/internal/testenv"
)

const issuer = "https://auth.e2e.test"

func TestEndToEnd(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "authstack")
	run(t, root, "go", "build", "-o", bin, ".")

	env := &envtest.Environment{BinaryAssetsDirectory: testenv.Assets()}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := env.ControlPlane.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	kubectlBin := "kubectl"
	if _, err := exec.LookPath(kubectlBin); err != nil {
		kubectlBin = filepath.Join(testenv.Assets(), "kubectl") // built by hack/setup-envtest.sh
	}
	kubectl := func(args ...string) string {
		t.Helper()
		return run(t, root, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	}

	kubectl("apply", "-f", "config/crd/bases/")
	kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")

	// The manager runs as a user holding only config/rbac/role.yaml: the
	// generated least-privilege ClusterRole, and the Role that lets it write
	// the signing-keys Secret in its own namespace, are enough for
	// everything below.
	kubectl("create", "namespace", "authstack-system")
	kubectl("apply", "-f", "config/rbac/role.yaml")
	kubectl("create", "clusterrolebinding", "authstack-manager", "--clusterrole", "authstack-manager", "--user", "authstack-manager")
	kubectl("create", "rolebinding", "authstack-manager", "-n", "authstack-system", "--role", "authstack-manager", "--user", "authstack-manager")
	mgrUser, err := env.ControlPlane.AddUser(envtest.User{Name: "authstack-manager"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mkc, err := mgrUser.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	managerKubeconfig := filepath.Join(work, "manager-kubeconfig")
	if err := os.WriteFile(managerKubeconfig, mkc, 0o600); err != nil {
		t.Fatal(err)
	}
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
		addr := freeAddr(t)
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

// run runs a command in dir and returns its standard output.
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
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "active.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
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
