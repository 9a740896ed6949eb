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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// programObjects are a program's ServiceAccount, its AuthClient and its
// pod (never scheduled: envtest has no node, but the pod is what its token
// is bound to). No Secret.
const programObjects = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: orders, namespace: shop}
---
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: orders, namespace: shop}
spec:
  serviceAccountRef: {name: orders}
  grantTypes: [client_credentials]
  scopes: [inventory.read]
  audiences: [inventory]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: billing, namespace: shop}
---
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: billing, namespace: shop}
spec:
  serviceAccountRef: {name: billing}
  grantTypes: [client_credentials]
  audiences: [inventory]
`

const programPod = `
apiVersion: v1
kind: Pod
metadata: {name: orders, namespace: shop}
spec:
  serviceAccountName: orders
  automountServiceAccountToken: false
  containers:
  - {name: orders, image: example.com/orders:1.0}
`

// serverRBAC is the chart's grant to the token server when
// server.serviceAccountClients.enabled: create tokenreviews, nothing else.
const serverRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: authstack-server-tokenreview}
rules:
- {apiGroups: [authentication.k8s.io], resources: [tokenreviews], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: authstack-server-tokenreview}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: authstack-server-tokenreview}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: authstack-server}
`

// TestProgramWithoutSecret is issue 13's "done when": a pod with no Secret
// gets an authstack token with its ServiceAccount token, calls a service
// that validates it with the SDK, and deleting its ServiceAccount stops
// it. The pod's program is examples/program-client, the service
// examples/resource-service (SDK middleware and revocation mirror), the
// token server asks the real kube-apiserver by TokenReview with only the
// chart's permission, and the ServiceAccount token is minted by the
// TokenRequest API, bound to the pod, as the kubelet's projection is.
func TestProgramWithoutSecret(t *testing.T) {
	c := newCluster(t)
	work, bin := c.work, c.bin
	kubectl := func(args ...string) string {
		t.Helper()
		return c.kubectl(t, args...)
	}
	program := filepath.Join(work, "program-client")
	service := filepath.Join(work, "resource-service")
	build(t, c.root, "./examples/program-client", program)
	build(t, c.root, "./examples/resource-service", service)

	kubectl("create", "namespace", "authstack-system")
	kubectl("create", "namespace", "shop")
	apply := func(name, manifest string) {
		t.Helper()
		path := filepath.Join(work, name+".yaml")
		if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		kubectl("apply", "-f", path)
	}
	apply("server-rbac", serverRBAC)
	serverKubeconfig := c.userKubeconfig(t, envtest.User{Name: "authstack-server"})
	if !c.canI("authstack-server", "create", "tokenreviews") || c.canI("authstack-server", "get", "serviceaccounts", "-A") {
		t.Fatal("the token server's user has not exactly the chart's permission")
	}

	redis := redistest.Start(t)
	keys := filepath.Join(work, "keys")
	writeSigningKey(t, keys)
	start(t, work, "manager", bin, "manager", "--kubeconfig", c.kubeconfig, "--redis-url", redis.URL(),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--signing-keys-namespace", "authstack-system")
	addr, metricsAddr := authtest.MustFreeAddr(t), authtest.MustFreeAddr(t)
	start(t, work, "server", bin, "server", "--addr", addr, "--metrics-addr", metricsAddr, "--redis-url", redis.URL(),
		"--issuer", issuer, "--signing-keys", keys, "--shutdown-delay", "0s",
		"--service-account-clients", "--kubeconfig", serverKubeconfig)
	waitHTTP(t, "http://"+metricsAddr+"/readyz")
	serviceAddr := authtest.MustFreeAddr(t)
	start(t, work, "service", service, "--issuer", issuer, "--audience", "inventory", "--addr", serviceAddr,
		"--jwks-url", "http://"+addr+"/.well-known/jwks.json", "--allow-http", "--redis-url", redis.URL())
	waitHTTP(t, "http://"+serviceAddr+"/readyz")

	apply("program", programObjects)
	apply("pod", programPod)
	kubectl("wait", "--for=condition=Ready", "-n", "shop", "authclient/orders", "authclient/billing", "--timeout=60s")

	// The kubelet's projection, by the same API: a token for the issuer,
	// bound to the pod.
	tokenFile := filepath.Join(work, "authstack-token")
	mint := func() {
		t.Helper()
		tok := kubectl("create", "token", "orders", "-n", "shop", "--audience", issuer,
			"--bound-object-kind", "Pod", "--bound-object-name", "orders", "--duration", "10m")
		if err := os.WriteFile(tokenFile, []byte(strings.TrimSpace(tok)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mint()
	// argsFor is the program's command line as client id with the token
	// in file.
	argsFor := func(id, file string) []string {
		return []string{"--token-url", "http://" + addr + "/token", "--client-id", id, "--token-file", file,
			"--url", "http://" + serviceAddr + "/api/whoami"}
	}
	programArgs := argsFor("orders", tokenFile)
	out := run(t, work, program, programArgs...)
	if !strings.HasPrefix(out, "200 ") || !strings.Contains(out, "client:orders") {
		t.Fatalf("the program's call: %s", out)
	}
	// Its token is the orders account's, not billing's.
	if out, err := exec.Command(program, argsFor("billing", tokenFile)...).CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid_client") {
		t.Fatalf("orders' ServiceAccount token authenticated the billing client: %v %s", err, out)
	}

	// Nor is a token of an account of that name in another namespace, or
	// one for another audience (the API server's, say).
	kubectl("create", "namespace", "other")
	kubectl("create", "serviceaccount", "orders", "-n", "other")
	for what, args := range map[string][]string{
		"another namespace's orders": {"create", "token", "orders", "-n", "other", "--audience", issuer, "--duration", "10m"},
		"another audience":           {"create", "token", "orders", "-n", "shop", "--audience", "https://kubernetes.default.svc", "--duration", "10m"},
	} {
		foreign := filepath.Join(work, "foreign-token")
		if err := os.WriteFile(foreign, []byte(strings.TrimSpace(kubectl(args...))), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(program, argsFor("orders", foreign)...).CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid_client") {
			t.Fatalf("%s's token authenticated the orders client: %v %s", what, err, out)
		}
	}

	// A running program holds its token; deleting the ServiceAccount ends
	// it at the service (the manager moves the client's not-before, which
	// the service's revocation mirror follows), and no new one is issued.
	var log authtest.SyncBuffer
	held := exec.Command(program, append(programArgs, "--count", "600", "--interval", "100ms")...)
	held.Stdout, held.Stderr = &log, &log
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	var heldErr error
	done := make(chan struct{})
	go func() { heldErr = held.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = held.Process.Kill()
		<-done
	})
	eventuallyWithin(t, 30*time.Second, "the running program's first call", func() bool {
		return strings.Contains(log.String(), "200 ")
	})
	deleted := time.Now()
	kubectl("delete", "serviceaccount", "orders", "-n", "shop")
	select {
	case <-done:
		if heldErr == nil || !strings.Contains(log.String(), "401") {
			t.Fatalf("the program did not stop on a 401: %v\n%s", heldErr, log.String())
		}
		t.Logf("the held token was refused by the service %.2f s after the ServiceAccount was deleted", time.Since(deleted).Seconds())
	case <-time.After(30 * time.Second):
		t.Fatalf("the program still calls 30 s after its ServiceAccount was deleted:\n%s", log.String())
	}
	kubectl("wait", "--for=condition=Ready=false", "-n", "shop", "authclient/orders", "--timeout=30s")
	if out, err := exec.Command(program, programArgs...).CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid_client") {
		t.Fatalf("a token was issued for a deleted ServiceAccount: %v %s", err, out)
	}

	// Re-created under the same name, it is another account: the old
	// pod's token (bound to the old account) is refused, the new one's
	// accepted.
	apply("program", programObjects)
	kubectl("wait", "--for=condition=Ready", "-n", "shop", "authclient/orders", "--timeout=60s")
	eventuallyWithin(t, 30*time.Second, "the re-created account's old token refused", func() bool {
		out, err := exec.Command(program, programArgs...).CombinedOutput()
		return err != nil && strings.Contains(string(out), "invalid_client")
	})
	kubectl("delete", "pod", "orders", "-n", "shop", "--wait=true")
	apply("pod", programPod)
	mint()
	if out := run(t, work, program, programArgs...); !strings.HasPrefix(out, "200 ") {
		t.Fatalf("the new account's token: %s", out)
	}

	// Deleting the pod ends its bound token, as Kubernetes says: the API
	// server's review refuses it once its cache of good tokens lapses.
	kubectl("delete", "pod", "orders", "-n", "shop", "--wait=true")
	podDeleted := time.Now()
	eventuallyWithin(t, 30*time.Second, "a deleted pod's token refused", func() bool {
		out, err := exec.Command(program, programArgs...).CombinedOutput()
		return err != nil && strings.Contains(string(out), "invalid_client")
	})
	t.Logf("a deleted pod's token was refused %.1f s after the deletion", time.Since(podDeleted).Seconds())
}
