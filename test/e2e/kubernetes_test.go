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

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// The Kubernetes objects of TestKubectl: alice in group dev, the two
// public clients kubectl uses (one per path: each gets its own audience),
// and a Role that lets group dev read pods in namespace team.
const kubernetesObjects = `
apiVersion: v1
kind: Secret
metadata: {name: alice-password, namespace: authstack-system}
stringData: {password: wonderland-rabbit-42}
---
apiVersion: authstack.dev/v1alpha1
kind: AuthUser
metadata: {name: alice, namespace: authstack-system}
spec:
  passwordSecretRef: {name: alice-password, key: password}
  groups: [dev]
---
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: kubectl-jwt, namespace: authstack-system}
spec:
  grantTypes: [password, refresh_token]
  audiences: [kubernetes-jwt]
---
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: kubectl-webhook, namespace: authstack-system}
spec:
  grantTypes: [password, refresh_token]
  audiences: [kubernetes-webhook]
---
# A client whose ID is the JWT authenticator's audience: its ID tokens say
# aud: kubernetes-jwt, and must not log into the cluster.
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: kubernetes-jwt, namespace: authstack-system}
spec:
  grantTypes: [password]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-reads-pods, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "authstack:dev"}
`

// kubectlUser is kubectl as an authstack user: a kubeconfig whose user
// runs `authstack login`, the password in AUTHSTACK_PASSWORD and a token
// cache of its own.
type kubectlUser struct {
	c          *cluster
	kubeconfig string
	cache      string
	password   string
}

// run runs kubectl as the user and returns its output and error.
func (u *kubectlUser) run(args ...string) (string, error) {
	cmd := exec.Command(u.c.kubectlBin, append([]string{"--kubeconfig", u.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "AUTHSTACK_PASSWORD="+u.password, "KUBECACHEDIR="+u.cache)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if err != nil {
		err = errors.New(strings.TrimSpace(stderr.String()))
	}
	return out.String(), err
}

// plugin runs `authstack login` as kubectl would and returns the token
// of the ExecCredential it prints.
func (u *kubectlUser) plugin(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AUTHSTACK_PASSWORD="+u.password, "KUBECACHEDIR="+u.cache)
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	var cred struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(out, &cred); err != nil {
		return "", err
	}
	return cred.Status.Token, nil
}

// inTerminal runs kubectl as the user on a terminal of its own (util-linux
// script(1) gives it a pseudo-terminal), with no AUTHSTACK_PASSWORD:
// `authstack login` prompts there. The password is typed once the prompt
// shows, and must not be echoed. It returns what the terminal showed.
func (u *kubectlUser) inTerminal(t *testing.T, password string, args ...string) string {
	t.Helper()
	line := u.c.kubectlBin + " --kubeconfig " + u.kubeconfig + " " + strings.Join(args, " ")
	cmd := exec.Command("script", "--quiet", "--return", "--command", line, os.DevNull)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "AUTHSTACK_PASSWORD=") }),
		"KUBECACHEDIR="+u.cache)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var shown bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(shown.String(), "Password for alice") {
		n, err := stdout.Read(buf)
		shown.Write(buf[:n])
		if err != nil {
			t.Fatalf("no password prompt on the terminal: %v\n%s", err, shown.String())
		}
	}
	if _, err := io.WriteString(stdin, password+"\n"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	shown.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kubectl in a terminal: %v\n%s", err, shown.String())
	}
	if strings.Contains(shown.String(), password) {
		t.Errorf("the password was echoed on the terminal:\n%s", shown.String())
	}
	return shown.String()
}

// whoami is `kubectl auth whoami` as the user: the API server's view of
// who the token is.
func (u *kubectlUser) whoami() (name string, groups []string, err error) {
	out, err := u.run("auth", "whoami", "-o", "json")
	if err != nil {
		return "", nil, err
	}
	var r struct {
		Status struct {
			UserInfo struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return "", nil, err
	}
	return r.Status.UserInfo.Username, r.Status.UserInfo.Groups, nil
}

// TestKubectl logs kubectl into a real kube-apiserver with AuthUser
// credentials through both of Kubernetes' paths: the structured JWT
// authenticator (--authentication-config, offline) and authstack's
// TokenReview webhook (revocation-aware). kubectl runs `authstack login` as
// its exec credential plugin; the configuration the API server reads is
// what `authstack kubeconfig` prints. RBAC by AuthUser group allows and
// forbids; disabling alice, or changing her password, with kubectl cuts
// her webhook access within the bound docs/kubernetes.md states (the
// propagation to the webhook, then kube-apiserver's caches); an ID token
// whose aud is the API server's audience does not log in.
func TestKubectl(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "authstack")
	build(t, root, ".", bin)

	// The token server's address and TLS are known before the API server
	// starts: its flags name them.
	addr := authtest.MustFreeAddr(t)
	issuer := "https://" + addr + "/auth"
	// A self-signed certificate for 127.0.0.1: its own CA.
	tls := authtest.TLSPair(t, work)
	authnConfig := filepath.Join(work, "authentication-config.yaml")
	webhookConfig := filepath.Join(work, "webhook-kubeconfig.yaml")
	writeOutput(t, authnConfig, bin, "kubeconfig", "--authentication-config", "--server", issuer, "--client-id", "kubectl-jwt",
		"--username", "alice", "--certificate-authority", tls.CertFile, "--audience", "kubernetes-jwt", "--prefix", "authstack:")
	writeOutput(t, webhookConfig, bin, "kubeconfig", "--webhook-config", "--server", issuer, "--certificate-authority", tls.CertFile)

	const webhookCacheTTL = time.Second
	c := newCluster(t,
		"authentication-config="+authnConfig,
		"authentication-token-webhook-config-file="+webhookConfig,
		"authentication-token-webhook-version=v1",
		"authentication-token-webhook-cache-ttl="+webhookCacheTTL.String(),
	)
	kubectl := func(args ...string) string {
		t.Helper()
		return c.kubectl(t, args...)
	}
	kubectl("create", "namespace", "authstack-system")
	kubectl("create", "namespace", "team")

	redis := redistest.Start(t)
	keys := filepath.Join(work, "keys")
	writeSigningKey(t, keys)
	start(t, work, "manager", bin, "manager", "--kubeconfig", c.kubeconfig, "--redis-url", redis.URL(),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--signing-keys-namespace", "authstack-system")
	metricsAddr := authtest.MustFreeAddr(t)
	start(t, work, "server", bin, "server", "--addr", addr, "--metrics-addr", metricsAddr, "--redis-url", redis.URL(),
		"--issuer", issuer, "--signing-keys", keys, "--shutdown-delay", "0s",
		"--tls-cert-file", tls.CertFile, "--tls-key-file", tls.KeyFile,
		"--tokenreview-audience", "kubernetes-webhook", "--tokenreview-prefix", "authstack:")
	waitHTTP(t, "http://"+metricsAddr+"/readyz")

	objects := filepath.Join(work, "objects.yaml")
	if err := os.WriteFile(objects, []byte(kubernetesObjects), 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl("apply", "-f", objects)
	kubectl("wait", "--for=condition=Ready", "-n", "authstack-system", "authuser/alice", "authclient/kubectl-jwt",
		"authclient/kubectl-webhook", "authclient/kubernetes-jwt", "--timeout=60s")

	users := map[string]*kubectlUser{}
	for _, client := range []string{"kubectl-jwt", "kubectl-webhook"} {
		u := &kubectlUser{c: c, cache: filepath.Join(work, client+"-cache"), password: "wonderland-rabbit-42"}
		u.kubeconfig = filepath.Join(work, client+"-kubeconfig")
		writeOutput(t, u.kubeconfig, bin, "kubeconfig", "--server", issuer, "--client-id", client, "--username", "alice",
			"--certificate-authority", tls.CertFile, "--cluster-server", c.env.Config.Host, "--cluster-ca", c.caFile(t), "--name", client)
		users[client] = u
	}

	// Both paths: the API server sees alice and her groups, prefixed.
	for client, u := range users {
		var name string
		var groups []string
		// The JWT authenticator fetches the issuer's discovery and keys in
		// the background once the token server is up.
		eventuallyWithin(t, 60*time.Second, client+": kubectl auth whoami as alice", func() bool {
			name, groups, err = u.whoami()
			return err == nil
		})
		if name != "authstack:alice" || !slices.Contains(groups, "authstack:dev") {
			t.Errorf("%s: whoami %q %q, want authstack:alice in authstack:dev", client, name, groups)
		}
		// RBAC by AuthUser group.
		if _, err := u.run("get", "pods", "-n", "team"); err != nil {
			t.Errorf("%s: alice cannot list pods in team: %v", client, err)
		}
		for _, args := range [][]string{{"get", "secrets", "-n", "team"}, {"get", "pods", "-n", "default"}} {
			if _, err := u.run(args...); err == nil || !strings.Contains(err.Error(), "Forbidden") {
				t.Errorf("%s: alice may %v: %v", client, args, err)
			}
		}
	}

	// As a person runs it: kubectl in a terminal, no AUTHSTACK_PASSWORD,
	// alice types her password at the prompt, which does not echo it.
	prompted := &kubectlUser{c: c, kubeconfig: users["kubectl-webhook"].kubeconfig, cache: filepath.Join(work, "prompt-cache")}
	if out := prompted.inTerminal(t, "wonderland-rabbit-42", "get", "pods", "-n", "team"); !strings.Contains(out, "No resources found") {
		t.Errorf("kubectl get pods in a terminal:\n%s", out)
	}

	// An ID token is no access token: kube-apiserver does not look at its
	// typ, but the authenticator's claim rule refuses it (no client_id),
	// though its aud is the API server's audience.
	body := curl(t, "--cacert", tls.CertFile, "-d", "grant_type=password", "-d", "client_id=kubernetes-jwt", "-d", "username=alice",
		"-d", "scope=openid groups", "--data-urlencode", "password=wonderland-rabbit-42", issuer+"/token")
	var idResp struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(body), &idResp); err != nil || idResp.IDToken == "" {
		t.Fatalf("no ID token: %s", body)
	}
	out, err := exec.Command(c.kubectlBin, "--kubeconfig", os.DevNull, "--server", c.env.Config.Host, "--certificate-authority", c.caFile(t),
		"--token", idResp.IDToken, "auth", "whoami").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Unauthorized") {
		t.Errorf("kube-apiserver took an ID token whose aud is its audience: %v %s", err, out)
	}

	webhook, jwt := users["kubectl-webhook"], users["kubectl-jwt"]
	// held is the token kubectl holds: the plugin's, from its cache while
	// it is unexpired (no request is made then).
	held := func() string {
		t.Helper()
		tok, err := webhook.plugin(bin, "login", "--server", issuer, "--client-id", "kubectl-webhook", "--username", "alice",
			"--certificate-authority", tls.CertFile)
		if err != nil {
			t.Fatalf("authstack login: %v", err)
		}
		return tok
	}
	// reviewed asks authstack's webhook about tok, as kube-apiserver does.
	reviewed := func(tok string) bool {
		review := `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"` + tok + `"}}`
		out := curl(t, "--cacert", tls.CertFile, "-H", "Content-Type: application/json", "-d", review, issuer+"/tokenreview")
		return strings.Contains(out, `"authenticated":true`)
	}
	// refusedByKubernetes is whether kube-apiserver refuses tok.
	refusedByKubernetes := func(tok string) bool {
		out, err := exec.Command(c.kubectlBin, "--kubeconfig", os.DevNull, "--server", c.env.Config.Host, "--certificate-authority", c.caFile(t),
			"--token", tok, "get", "pods", "-n", "team").CombinedOutput()
		return err != nil && strings.Contains(string(out), "Unauthorized")
	}
	// The bound docs/kubernetes.md states: the change reaches the webhook
	// within half a second; kube-apiserver keeps an accepted token for the
	// longer of its fixed 10 s success cache and the webhook cache TTL.
	// The deadlines add a margin for a loaded machine.
	const kubeSuccessCache = 10 * time.Second
	atWebhookBound, atKubectlBound := 500*time.Millisecond, max(kubeSuccessCache, webhookCacheTTL)+500*time.Millisecond
	const margin = 4 * time.Second
	// cut makes a change that must end alice's token, and checks the
	// token kubectl held is refused by the webhook, then by the API server,
	// within the bounds.
	cut := func(what string, change func()) {
		t.Helper()
		tok := held()
		if !reviewed(tok) || refusedByKubernetes(tok) {
			t.Fatalf("%s: alice's token is refused before the change", what)
		}
		begin := time.Now()
		change()
		eventuallyWithin(t, atWebhookBound+margin, what+" to reach the webhook", func() bool { return !reviewed(tok) })
		atWebhook := time.Since(begin)
		eventuallyWithin(t, atKubectlBound+margin, what+" to cut alice's token at kube-apiserver (webhook)", func() bool { return refusedByKubernetes(tok) })
		took := time.Since(begin)
		t.Logf("%s: authstack's webhook refused alice's token %v after the change (bound %v); kube-apiserver after %v (bound %v)",
			what, atWebhook.Round(time.Millisecond), atWebhookBound, took.Round(time.Millisecond), atKubectlBound)
	}
	patch := func(args ...string) func() { return func() { kubectl(append([]string{"patch"}, args...)...) } }
	// loggedIn waits until alice's kubectl works again, with a new login.
	loggedIn := func(what string) {
		t.Helper()
		_ = os.RemoveAll(webhook.cache)
		eventuallyWithin(t, 30*time.Second, "alice's kubectl to work again "+what, func() bool {
			_, err := webhook.run("get", "pods", "-n", "team")
			return err == nil
		})
	}

	cut("disable", patch("authuser", "alice", "-n", "authstack-system", "--type", "merge", "-p", `{"spec":{"disabled":true}}`))
	if _, err := webhook.run("get", "pods", "-n", "team"); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("a disabled alice's kubectl: %v", err)
	}
	// The structured JWT authenticator verifies offline: the same token
	// still works there until it expires (docs/kubernetes.md).
	if _, err := jwt.run("get", "pods", "-n", "team"); err != nil {
		t.Logf("the JWT path refused the disabled user's cached token too: %v", err)
	}
	kubectl("patch", "authuser", "alice", "-n", "authstack-system", "--type", "merge", "-p", `{"spec":{"disabled":false}}`)
	loggedIn("after she is enabled again")

	// A password change cuts her; the old password no longer logs in, the
	// new one does.
	cut("password change", patch("secret", "alice-password", "-n", "authstack-system", "--type", "merge",
		"-p", `{"stringData":{"password":"a-new-password-for-alice"}}`))
	_ = os.RemoveAll(webhook.cache)
	if _, err := webhook.run("get", "pods", "-n", "team"); err == nil {
		t.Error("the old password still logs in")
	}
	webhook.password = "a-new-password-for-alice"
	loggedIn("with her new password")

	// authstack logout revokes the session: the token kubectl held is cut
	// everywhere, though alice may log in again.
	cut("logout", func() {
		cmd := exec.Command(bin, "logout", "--server", issuer, "--client-id", "kubectl-webhook", "--username", "alice",
			"--certificate-authority", tls.CertFile)
		cmd.Env = append(os.Environ(), "KUBECACHEDIR="+webhook.cache)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("authstack logout: %v %s", err, out)
		}
	})
	loggedIn("after logging out")

	// Deleting her AuthUser cuts her for good.
	cut("delete", func() { kubectl("delete", "authuser", "alice", "-n", "authstack-system", "--wait=false") })
	_ = os.RemoveAll(webhook.cache)
	if _, err := webhook.run("get", "pods", "-n", "team"); err == nil {
		t.Error("a deleted alice still logs in")
	}
}

// writeOutput runs bin with args and writes its standard output to path.
func writeOutput(t *testing.T, path, bin string, args ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(run(t, filepath.Dir(path), bin, args...)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// eventuallyWithin polls cond until it holds or d has passed.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
