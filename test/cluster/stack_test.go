//go:build cluster

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

package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/test/cluster/load"
)

// stack is one install of authstack on the node.
type stack struct {
	n       *Node
	ns      string
	release string          // the helm release; "" for kustomize
	prefix  string          // the objects' name prefix: <release>- (helm) or authstack- (kustomize)
	base    string          // the token server's Service, http://<ClusterIP>, for the node
	inPod   string          // the same Service by its DNS name, for pods
	pvDir   string          // the bundled Redis's hostPath volume, if any
	kinds   map[bool]string // listable's answers, by namespaced
}

const (
	serverPods  = "app.kubernetes.io/component=server"
	managerPods = "app.kubernetes.io/component=manager"
	redisPods   = "app.kubernetes.io/component=redis"
)

// chartValues are the values every install here shares: the local image,
// an issuer, and CPU requests small enough for a rolling upgrade's third
// token server and the load pod to fit the node's two CPUs.
const chartValues = `image: {repository: docker.io/local/authstack, tag: dev, pullPolicy: Never}
issuer: ` + issuer + `
server:
  resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 256Mi}}
manager:
  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 512Mi}}
`

// helmInstall installs the chart with chartValues and extra values, times
// it, and checks every pod is Ready with no restart.
func (n *Node) helmInstall(t *testing.T, ns, release, extra string) *stack {
	common := n.file(t, release+"-values.yaml", chartValues)
	values := n.file(t, release+"-extra-values.yaml", extra)
	start := time.Now()
	n.helm(t, "install", release, filepath.Join(n.root, "charts", "authstack"), "-n", ns, "--create-namespace",
		"-f", common, "-f", values, "--wait", "--timeout", "3m")
	pods := n.podsReady(t, ns, "app.kubernetes.io/instance="+release)
	if !t.Failed() {
		t.Logf("helm install --wait: %d pods Ready, no container restarted, %.1fs", len(pods), time.Since(start).Seconds())
	}
	// The chart's fullname: the release's name when it has the chart's in
	// it, <release>-authstack otherwise.
	full := release
	if !strings.Contains(release, "authstack") {
		full += "-authstack"
	}
	return n.stack(t, ns, release, full+"-", full+"-server")
}

func (n *Node) stack(t *testing.T, ns, release, prefix, service string) *stack {
	svc, err := n.Client.CoreV1().Services(ns).Get(context.Background(), service, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port := svc.Spec.Ports[0].Port
	return &stack{n: n, ns: ns, release: release, prefix: prefix,
		base:  fmt.Sprintf("http://%s:%d", svc.Spec.ClusterIP, port),
		inPod: fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", svc.Name, ns, port)}
}

// samples applies config/samples and waits, with kubectl wait, for every
// AuthUser to be Ready.
func (s *stack) samples(t *testing.T) {
	start := time.Now()
	s.n.kubectl(t, "apply", "-n", s.ns, "-f", filepath.Join(s.n.root, "config", "samples"))
	if _, err := s.n.command("", "kubectl", "wait", "-n", s.ns, "--for=condition=Ready", "authuser", "--all", "--timeout=60s"); err != nil {
		out, _ := s.n.command("", "kubectl", "describe", "authusers", "-n", s.ns)
		t.Fatalf("%v\n%s%s", err, out, s.n.podLogs(s.ns, managerPods))
	}
	t.Logf("kubectl apply -f config/samples/: every AuthUser Ready %.1fs later", time.Since(start).Seconds())
}

// tokenFromPod gets a token for alice from a pod, through the Service's
// DNS name, and has /verify name her.
func (s *stack) tokenFromPod(t *testing.T) {
	start := time.Now()
	out := s.n.runPod(t, loadgenPod(s.ns, "get-token", "token", "-url", s.inPod, "-audience", audience))
	if !strings.Contains(out, `"user":"alice"`) {
		t.Fatalf("loadgen token: %s", out)
	}
	t.Logf("a client pod got alice's token through %s and /verify named her: %s (%.1fs with the pod's start)", s.inPod, strings.TrimSpace(out), time.Since(start).Seconds())
}

// kubeAPIServerLogin: this cluster's kube-apiserver authenticates alice's
// authstack token through the in-cluster token servers' /tokenreview (its
// webhook configuration names webhookIP, a Service made here), and refuses
// a token revoked before it is presented. (How soon a token it has
// already accepted is refused, its fixed 10 s cache of successes, is
// TestKubectl's, in test/e2e.)
func (s *stack) kubeAPIServerLogin(t *testing.T) {
	s.n.apply(t, s.ns, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: kube-apiserver-webhook}
spec:
  clusterIP: %s
  selector: {app.kubernetes.io/instance: %s, app.kubernetes.io/component: server}
  ports: [{port: 80, targetPort: http}]
`, webhookIP, s.release))
	defer s.n.kubectl(t, "delete", "-n", s.ns, "service/kube-apiserver-webhook")
	whoami := func(token string) (string, error) {
		return s.n.command("", "kubectl", "--token", token, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	}
	access, _ := s.mustLogin(t, "alice")
	var who string
	s.n.waitFor(t, "kube-apiserver authenticates alice's token", 30, func() error {
		var err error
		who, err = whoami(access)
		return err
	})
	if !strings.HasPrefix(who, "authstack:alice ") || !strings.Contains(who, "authstack:readers") {
		t.Fatalf("kubectl auth whoami with alice's token: %q, want authstack:alice in authstack:readers", who)
	}
	revoked, _ := s.mustLogin(t, "alice")
	if _, err := s.post(t, "/revoke", url.Values{"token": {revoked}, "token_type_hint": {"access_token"}}, http.StatusOK); err != nil {
		t.Fatal(err)
	}
	if out, err := whoami(revoked); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("kubectl auth whoami with a revoked token: %q, %v; want Unauthorized", out, err)
	}
	t.Logf("kube-apiserver authenticated alice's token through the token servers' /tokenreview as %q, and refused a revoked one", who)
}

func (s *stack) secret(t testing.TB, name, key string) string {
	t.Helper()
	sec, err := s.n.Client.CoreV1().Secrets(s.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(sec.Data[key])
}

// login is the password grant for a sample user from the node.
func (s *stack) login(t testing.TB, user string) (map[string]any, error) {
	t.Helper()
	passwords := map[string]string{"alice": s.secret(t, "alice-password", "password"), "bob": "builder-bob-77", "carol": "carol-password-9"}
	return s.post(t, "/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {passwords[user]}}, http.StatusOK)
}

func (s *stack) mustLogin(t testing.TB, user string) (access, refresh string) {
	t.Helper()
	tr, err := s.login(t, user)
	if err != nil {
		t.Fatal(err)
	}
	access, _ = tr["access_token"].(string)
	refresh, _ = tr["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("token response without both tokens: %v", tr)
	}
	return access, refresh
}

// post is a form POST to endpoint as the sample client.
func (s *stack) post(t testing.TB, endpoint string, form url.Values, want int) (map[string]any, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("billing-service", s.secret(t, "billing-service-client", "clientSecret"))
	var m map[string]any
	return m, s.n.jsonCall(req, want, &m)
}

func (s *stack) wantVerify(t testing.TB, what, tok string, want int) {
	t.Helper()
	code, err := s.n.verify(s.base, tok)
	if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("%s: /verify answered %d, want %d", what, code, want)
	}
}

// rollingUpgrade: helm upgrade to a new image tag of the same image while
// the load pod calls /token and /verify: no request fails.
func (s *stack) rollingUpgrade(t *testing.T, l *Load) {
	ctx := context.Background()
	if _, err := s.n.ctr("images", "tag", "--force", authstackImage, "docker.io/local/authstack:dev2"); err != nil {
		t.Fatal(err)
	}
	before := s.n.podsReady(t, s.ns, serverPods)
	l.Phase(t)
	start := time.Now()
	s.n.helm(t, "upgrade", s.release, filepath.Join(s.n.root, "charts", "authstack"), "-n", s.ns,
		"--reuse-values", "--set", "image.tag=dev2", "--wait", "--timeout", "3m")
	// helm --wait returns when the new pods are Ready; the old ones may
	// still drain. The upgrade is over when only new pods are left.
	s.n.waitFor(t, "only upgraded token servers", 60, func() error {
		pods, err := s.n.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: serverPods})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Spec.Containers[0].Image != "docker.io/local/authstack:dev2" || !podReady(&p) {
				return fmt.Errorf("pod %s (%s) still there", p.Name, p.Spec.Containers[0].Image)
			}
		}
		if len(pods.Items) != 2 {
			return fmt.Errorf("%d token servers", len(pods.Items))
		}
		return nil
	})
	took := time.Since(start)
	time.Sleep(time.Second) // load on the new pods alone
	c := l.Phase(t)
	t.Logf("rolling upgrade of %d token servers took %.1fs; load over it: %s", len(before), took.Seconds(), c)
	lostNone(t, "rolling upgrade under load", c)
}

// sigkill kills one token server's process with SIGKILL under load: the
// only failures are requests that were in flight on it (at most one per
// load worker, and connection errors, never an HTTP error from the other
// replica); the kubelet restarts the container and the Deployment is back
// to two Ready pods.
func (s *stack) sigkill(t *testing.T, l *Load) {
	ctx := context.Background()
	victim := s.n.podsReady(t, s.ns, serverPods)[0]
	id := strings.TrimPrefix(victim.Status.ContainerStatuses[0].ContainerID, "containerd://")
	l.Phase(t)
	time.Sleep(2 * time.Second)
	killed := time.Now()
	if _, err := s.n.ctr("tasks", "kill", "--signal", "SIGKILL", id); err != nil {
		t.Fatal(err)
	}
	s.n.waitFor(t, "the killed token server restarted and Ready", 90, func() error {
		p, err := s.n.Client.CoreV1().Pods(s.ns).Get(ctx, victim.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.ContainerStatuses[0].RestartCount != 1 || !podReady(p) {
			return fmt.Errorf("restarts %d, ready %v", p.Status.ContainerStatuses[0].RestartCount, podReady(p))
		}
		return nil
	})
	back := time.Since(killed)
	s.n.waitPods(t, s.ns, serverPods, 2, 30)
	time.Sleep(2 * time.Second)
	c := l.Phase(t)
	t.Logf("SIGKILL of %s: Ready again after %.1fs (restartCount 1); load over it: %s", victim.Name, back.Seconds(), c)
	if c.Requests == 0 || c.Failed+c.Replayed > loadWorkers {
		t.Fatalf("SIGKILL under load: %s: more than the %d requests that can be in flight: %+v", c, loadWorkers, c.Failures)
	}
	// Only requests in flight on the killed pod: transport errors while it
	// was down, never an HTTP error (which the other replica would have
	// answered).
	for _, f := range c.Failures {
		at, err := time.Parse(load.TimeFormat, f.At)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Transport || at.Before(killed) || at.After(killed.Add(back)) {
			t.Errorf("not a request lost with the killed pod (killed at %s, back %.1fs later): %+v", killed.UTC().Format(load.TimeFormat), back.Seconds(), f)
		}
	}
}

// lostNone fails unless the load ran and lost nothing: no failed request,
// none that net/http had to send again after its connection broke, and no
// connection refused (an endpoint that was gone).
func lostNone(t *testing.T, what string, c load.Counts) {
	t.Helper()
	if c.Requests == 0 || c.Failed != 0 || c.Replayed != 0 || c.Redials != 0 {
		t.Fatalf("%s: %s: %+v", what, c, c.Failures)
	}
}

// leaderFailover deletes the manager that holds the lease, applies a new
// AuthUser at once, and times how long it takes to be Ready: the other
// replica takes the lease and reconciles it.
func (s *stack) leaderFailover(t *testing.T) {
	ctx := context.Background()
	leases := s.n.Client.CoordinationV1().Leases(s.ns)
	holder := func() string {
		l, err := leases.Get(ctx, "authstack-manager.authstack.dev", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	old := holder()
	leader := strings.SplitN(old, "_", 2)[0]
	managers := s.n.podsReady(t, s.ns, managerPods)
	var other string
	for _, p := range managers {
		if p.Name != leader {
			other = p.Name
		}
	}
	if len(managers) != 2 || other == "" || leader == "" {
		t.Fatalf("lease held by %q, managers %d", old, len(managers))
	}
	start := time.Now()
	if err := s.n.Client.CoreV1().Pods(s.ns).Delete(ctx, leader, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	s.n.apply(t, s.ns, `apiVersion: v1
kind: Secret
metadata: {name: carol-password}
stringData: {password: carol-password-9}
---
apiVersion: authstack.dev/v1alpha1
kind: AuthUser
metadata: {name: carol}
spec:
  passwordSecretRef: {name: carol-password, key: password}
  scopes: [read]
`)
	s.n.kubectl(t, "wait", "-n", s.ns, "--for=condition=Ready", "authuser/carol", "--timeout=60s")
	elapsed := time.Since(start)
	// The lease the leader released on its way out goes to whichever
	// replica asks first: the other one, or the Deployment's replacement.
	now := strings.SplitN(holder(), "_", 2)[0]
	if now == "" || now == leader {
		t.Fatalf("lease held by %q after the failover, want another replica than %s", now, leader)
	}
	took := "the other replica"
	if now != other {
		took = "the Deployment's replacement"
	}
	if _, err := s.login(t, "carol"); err != nil {
		t.Fatal(err)
	}
	t.Logf("leader manager %s deleted: %s (%s) took the lease, and carol, applied during the failover, was Ready %.1fs after the delete and logged in", leader, now, took, elapsed.Seconds())
	s.n.waitPods(t, s.ns, managerPods, 2, 60)
}

// drain drains the node's token servers: kubectl drain evicts one, and the
// PodDisruptionBudget refuses the second while its replacement cannot be
// scheduled (the node is cordoned); the load sees no failure.
func (s *stack) drain(t *testing.T, l *Load) {
	ctx := context.Background()
	pdbs := s.n.Client.PolicyV1().PodDisruptionBudgets(s.ns)
	s.n.waitFor(t, "the PodDisruptionBudget allowing one disruption", 30, func() error {
		pdb, err := pdbs.Get(ctx, s.prefix+"server", metav1.GetOptions{})
		if err == nil && pdb.Status.DisruptionsAllowed != 1 {
			err = fmt.Errorf("%d disruptions allowed", pdb.Status.DisruptionsAllowed)
		}
		return err
	})
	l.Phase(t)
	defer func() {
		if t.Failed() {
			_, _ = s.n.command("", "kubectl", "uncordon", nodeName)
		}
	}()
	out, err := s.n.command("", "kubectl", "drain", nodeName, "--pod-selector", serverPods, "--timeout", "7s")
	if err == nil || !strings.Contains(err.Error(), "disruption budget") {
		t.Fatalf("kubectl drain: want it refused by the PodDisruptionBudget, got %v: %s", err, out)
	}
	// The evicted pod drains (its shutdown delay, then its grace) while
	// the load goes on; the phase ends once it is gone.
	var ready, pending int
	s.n.waitFor(t, "one token server Ready and its evicted peer's replacement Pending", 60, func() error {
		pods, err := s.n.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: serverPods})
		if err != nil {
			return err
		}
		ready, pending = 0, 0
		for i, p := range pods.Items {
			switch {
			case podReady(&pods.Items[i]):
				ready++
			case p.Status.Phase == corev1.PodPending && p.Spec.NodeName == "":
				pending++
			}
		}
		if ready != 1 || pending != 1 || len(pods.Items) != 2 {
			return fmt.Errorf("%d token servers, %d Ready, %d Pending", len(pods.Items), ready, pending)
		}
		return nil
	})
	c := l.Phase(t)
	s.n.kubectl(t, "uncordon", nodeName)
	s.n.waitPods(t, s.ns, serverPods, 2, 60)
	t.Logf("kubectl drain: one token server evicted, the second refused by the PodDisruptionBudget; load during it: %s", c)
	lostNone(t, "drain under load", c)
}

// redisPodLoss deletes the bundled Redis's pod: it comes back with its AOF,
// users and sessions are kept, and a token revoked before stays refused.
func (s *stack) redisPodLoss(t *testing.T) (kept string) {
	ctx := context.Background()
	revoked, _ := s.mustLogin(t, "alice")
	if _, err := s.post(t, "/revoke", url.Values{"token": {revoked}, "token_type_hint": {"access_token"}}, http.StatusOK); err != nil {
		t.Fatal(err)
	}
	s.wantVerify(t, "a revoked token", revoked, http.StatusUnauthorized)
	kept, refresh := s.mustLogin(t, "alice")
	s.wantVerify(t, "a live token", kept, http.StatusOK)
	pods := s.n.Client.CoreV1().Pods(s.ns)
	old, err := pods.Get(ctx, s.prefix+"redis-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := pods.Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	s.n.waitFor(t, "the Redis pod replaced", 60, func() error {
		p, err := pods.Get(ctx, old.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.UID == old.UID || !podReady(p) {
			return fmt.Errorf("not replaced and Ready yet")
		}
		return nil
	})
	s.n.waitFor(t, "validation back", 30, func() error {
		code, err := s.n.verify(s.base, kept)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("/verify: %d", code)
		}
		return err
	})
	t.Logf("Redis pod deleted: back and validating %.1fs later", time.Since(start).Seconds())
	s.wantVerify(t, "the token revoked before the Redis pod was lost", revoked, http.StatusUnauthorized)
	if _, err := s.post(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, http.StatusOK); err != nil {
		t.Fatalf("a session from before the Redis pod was lost: %v", err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := s.login(t, u); err != nil {
			t.Fatalf("%s after the Redis pod was lost: %v", u, err)
		}
	}
	return kept
}

// redisDataLoss wipes the bundled Redis's volume while it is stopped: a
// new epoch starts, the token issued before is refused (never accepted
// again), and the manager writes the users back so they log in again.
func (s *stack) redisDataLoss(t *testing.T, before string) {
	ctx := context.Background()
	sts := s.prefix + "redis"
	s.n.kubectl(t, "scale", "-n", s.ns, "statefulset/"+sts, "--replicas=0")
	s.n.waitFor(t, "no Redis pod", 60, func() error {
		l, err := s.n.Client.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: redisPods})
		if err == nil && len(l.Items) != 0 {
			err = fmt.Errorf("%d Redis pods", len(l.Items))
		}
		return err
	})
	entries, err := os.ReadDir(s.pvDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("the Redis volume %s holds nothing to lose: %v", s.pvDir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.pvDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	s.n.kubectl(t, "scale", "-n", s.ns, "statefulset/"+sts, "--replicas=1")
	s.n.waitPods(t, s.ns, redisPods, 1, 60)
	// Until the servers see the new epoch they answer 503 (stale); the
	// first other answer must be a refusal.
	s.n.waitFor(t, "validation back after the data loss", 30, func() error {
		code, err := s.n.verify(s.base, before)
		if err != nil {
			return err
		}
		switch code {
		case http.StatusUnauthorized:
			return nil
		case http.StatusServiceUnavailable:
			return fmt.Errorf("503")
		}
		t.Fatalf("a token issued before the data loss: /verify answered %d", code)
		return nil
	})
	s.n.waitFor(t, "alice logs in again", 60, func() error {
		_, err := s.login(t, "alice")
		return err
	})
	t.Logf("Redis volume wiped: the token from before refused, alice logged in again %.1fs after Redis restarted", time.Since(start).Seconds())
	s.wantVerify(t, "the token from before the data loss, again", before, http.StatusUnauthorized)
}

// deleteUsers deletes what the tests applied (config/samples and carol)
// while the manager still runs: each AuthUser's and AuthClient's finalizer
// waits for it to remove the record.
func (s *stack) deleteUsers(t *testing.T) {
	s.n.kubectl(t, "delete", "-n", s.ns, "-f", filepath.Join(s.n.root, "config", "samples"), "--wait", "--timeout=60s")
	s.n.kubectl(t, "delete", "-n", s.ns, "authuser/carol", "secret/carol-password", "--ignore-not-found", "--wait", "--timeout=60s")
}

// teardown removes what is left of an install whose steps failed before
// its uninstall, so that the next install starts alone. Errors are only
// logged: the test has failed already.
func (s *stack) teardown(t *testing.T) {
	for _, args := range [][]string{
		{"kubectl", "delete", "-n", s.ns, "authusers,authclients", "--all", "--wait", "--timeout=30s"},
		{helmBin(t), "uninstall", s.release, "-n", s.ns, "--wait", "--timeout", "60s"},
		{"kubectl", "delete", "namespace", s.ns, "--wait", "--timeout=60s"},
	} {
		if _, err := s.n.command("", args[0], args[1:]...); err != nil {
			t.Logf("teardown after a failure: %v", err)
		}
	}
}

// uninstall deletes the users' objects while the manager still runs (their
// finalizer waits for it to remove their records), then the release, and
// checks that what is left is exactly what the chart's README documents.
func (s *stack) uninstall(t *testing.T, documented []string) {
	s.deleteUsers(t)
	start := time.Now()
	s.n.helm(t, "uninstall", s.release, "-n", s.ns, "--wait", "--timeout", "2m")
	left := s.wantLeft(t, documented)
	t.Logf("helm uninstall --wait: %.1fs; left, as documented: %v", time.Since(start).Seconds(), left)
	// The next install starts clean.
	s.n.kubectl(t, "delete", "namespace", s.ns, "--wait", "--timeout=60s")
}

// wantLeft waits, a bounded while (garbage collection follows a delete),
// until leftovers are exactly want, and returns them.
func (s *stack) wantLeft(t *testing.T, want []string) []string {
	var left []string
	s.n.waitFor(t, "only the documented objects left", 60, func() error {
		left = s.leftovers(t)
		if strings.Join(left, " ") != strings.Join(want, " ") {
			return fmt.Errorf("left: %v, want: %v", left, want)
		}
		return nil
	})
	return left
}

// leftovers lists, sorted, every object in the install's namespace that
// is not Kubernetes' own (events, the default ServiceAccount, the root CA
// ConfigMap), every object in any namespace labelled
// app.kubernetes.io/name=authstack (the chart's and config/'s label), and
// every cluster-scoped object with authstack in its name or that label
// (but the node, and the test's own PersistentVolume).
func (s *stack) leftovers(t *testing.T) []string {
	var left []string
	namespaced := s.listable(t, true)
	for _, o := range strings.Fields(s.n.kubectl(t, "get", namespaced, "-n", s.ns, "-o", "name", "--ignore-not-found")) {
		switch o {
		case "configmap/kube-root-ca.crt", "serviceaccount/default":
			continue
		}
		left = append(left, o)
	}
	for _, o := range strings.Fields(s.n.kubectl(t, "get", namespaced, "-A", "-l", "app.kubernetes.io/name=authstack",
		"-o", "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}")) {
		if !strings.Contains(o, "/"+s.ns+"/") {
			left = append(left, o)
		}
	}
	labelled := map[string]bool{}
	for _, o := range strings.Fields(s.n.kubectl(t, "get", s.listable(t, false), "-l", "app.kubernetes.io/name=authstack", "-o", "name")) {
		labelled[o] = true
	}
	for _, o := range strings.Fields(s.n.kubectl(t, "get", s.listable(t, false), "-o", "name")) {
		name := o[strings.Index(o, "/")+1:]
		if (strings.Contains(name, "authstack") || labelled[o]) && name != nodeName && name != s.ns && name != "authstack-redis-data" {
			left = append(left, o)
		}
	}
	sort.Strings(left)
	return left
}

// listable is every kind, namespaced or cluster-scoped, that can be
// listed, comma-separated for kubectl get. Events age out by themselves,
// EndpointSlices stand for the deprecated Endpoints, and the aggregator
// keeps an APIService per CRD group itself (it goes with the CRDs).
func (s *stack) listable(t *testing.T, namespaced bool) string {
	if k, ok := s.kinds[namespaced]; ok {
		return k
	}
	var kinds []string
	for _, k := range strings.Fields(s.n.kubectl(t, "api-resources", "--verbs=list", fmt.Sprintf("--namespaced=%v", namespaced), "-o", "name")) {
		switch k {
		case "events", "events.events.k8s.io", "endpoints", "componentstatuses", "apiservices.apiregistration.k8s.io":
		default:
			kinds = append(kinds, k)
		}
	}
	if s.kinds == nil {
		s.kinds = map[bool]string{}
	}
	s.kinds[namespaced] = strings.Join(kinds, ",")
	return s.kinds[namespaced]
}
