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

// Package cluster runs authstack on a real single-node cluster (etcd, the
// control plane, containerd, kubelet and kube-proxy, built by make node)
// inside a network namespace of its own, as root. It has the build tag
// cluster: go test -tags cluster -count=1 -v ./test/cluster/
package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestCluster brings one node up and runs authstack on it as a platform
// team would: the chart with its bundled Redis, through a rolling upgrade
// and faults; the chart with an external Redis; the kustomize install.
// Each install is removed before the next.
//
// The chart's NetworkPolicies are applied but not enforced: the bridge CNI
// plugin has no policy engine, so nothing here shows that they hold (the
// load pod would reach Redis too). test/chart checks what they say.
func TestCluster(t *testing.T) {
	n := StartNode(t)
	t.Run("PodRuns", func(t *testing.T) { podRuns(t, n) })
	t.Run("Services", func(t *testing.T) { services(t, n) })
	var alerts func(t *testing.T)
	t.Run("HelmBundledRedis", func(t *testing.T) { alerts = helmBundledRedis(t, n) })
	t.Run("HelmExternalRedis", func(t *testing.T) { helmExternalRedis(t, n) })
	t.Run("Kustomize", func(t *testing.T) { kustomize(t, n) })
	if alerts != nil {
		// Last: the guessing alert holds for 2 minutes before it fires,
		// and the other installs run meanwhile.
		t.Run("Alerts", alerts)
	}
}

// podRuns: a pod of the pause image, which is all local (imagePullPolicy
// Never), reaches Running, and a pod running the authstack image's binary
// (--help, as its non-root user) Succeeds.
func podRuns(t *testing.T, n *Node) {
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pause", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "pause", Image: pauseImage, ImagePullPolicy: corev1.PullNever,
			}},
		},
	}
	start := time.Now()
	if _, err := n.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = n.Client.CoreV1().Pods("default").Delete(ctx, "pause", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	}()
	n.waitFor(t, "pod Running", 120, func() error {
		p, err := n.Client.CoreV1().Pods("default").Get(ctx, "pause", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("phase %s: %v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return nil
	})
	t.Logf("pod Running %.1fs after it was created", time.Since(start).Seconds())

	nonRoot := true
	help := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "authstack-help", Namespace: "default"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "authstack", Image: authstackImage, ImagePullPolicy: corev1.PullNever,
				Args: []string{"--help"},
				// The kubelet refuses to start an image whose user is root.
				SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &nonRoot},
			}},
		},
	}
	start = time.Now()
	if _, err := n.Client.CoreV1().Pods("default").Create(ctx, help, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Client.CoreV1().Pods("default").Delete(ctx, "authstack-help", metav1.DeleteOptions{}) }()
	n.waitFor(t, "authstack --help pod Succeeded", 120, func() error {
		p, err := n.Client.CoreV1().Pods("default").Get(ctx, "authstack-help", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase == corev1.PodFailed {
			t.Fatalf("authstack --help failed: %v%s", p.Status.ContainerStatuses, n.logs())
		}
		if p.Status.Phase != corev1.PodSucceeded {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		return nil
	})
	t.Logf("authstack --help pod Succeeded %.1fs after it was created", time.Since(start).Seconds())
}

// services: CoreDNS gives the kubernetes Service's ClusterIP, and
// kube-proxy's rules carry a connection to it to the API server.
func services(t *testing.T, n *Node) {
	ctx := context.Background()
	addrs, err := n.Resolver().LookupHost(ctx, "kubernetes.default.svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0] != kubeSvcIP {
		t.Fatalf("kubernetes.default.svc.cluster.local: got %v, want [%s]", addrs, kubeSvcIP)
	}
	cfg := rest.CopyConfig(n.Config)
	cfg.Host = "https://" + kubeSvcIP
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// kube-proxy writes the Service's rules soon after it starts: a
	// bounded wait, then the request must succeed.
	n.waitFor(t, "the kubernetes Service", 30, func() error {
		_, err := c.Discovery().ServerVersion()
		return err
	})
}

// steps runs each step as a subtest, in order, until one fails: each
// starts from where the last left the install.
func steps(t *testing.T, steps ...step) bool {
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return false
		}
	}
	return true
}

type step struct {
	name string
	run  func(t *testing.T)
}

// helmBundledRedis: the chart with its bundled Redis on a static hostPath
// PersistentVolume and its monitoring on (the ServiceMonitors, the
// PrometheusRule and the dashboard, read by a real Prometheus), a script
// guessing alice's password found in the audit trail, then a rolling
// upgrade, a SIGKILL and a drain under load, alice's last login and
// throttle in kubectl, a leader failover, the Redis pod lost and its data
// lost, and the uninstall. It returns the check of the alerts the guesses
// and the data loss fired, which TestCluster runs last (the guessing
// alert's for: 2m runs meanwhile); nil when a step failed.
func helmBundledRedis(t *testing.T, n *Node) (alerts func(t *testing.T)) {
	pvDir := n.mkdir(t, "redis-pv")
	if err := os.Chmod(pvDir, 0o777); err != nil {
		t.Fatal(err)
	}
	n.apply(t, "", fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata: {name: authstack-redis-data}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: %s, type: Directory}
`, pvDir))
	defer n.kubectl(t, "delete", "persistentvolume", "authstack-redis-data", "--ignore-not-found", "--wait=false")
	n.apply(t, "", monitoringCRDs)
	s := n.helmInstall(t, "authstack", "authstack", monitoringValues+`redis:
  bundled:
    enabled: true
    image: {repository: docker.io/local/redis, tag: dev, pullPolicy: Never}
    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 256Mi}}
server:
  tokenReview: {audiences: ["`+audience+`"]}
`)
	s.pvDir = pvDir
	var (
		l         *Load
		loadStart time.Time
		before    string
		prom      *Prometheus
		g         guessing
	)
	if !steps(t,
		step{"Samples", s.samples},
		step{"TokenFromPod", s.tokenFromPod},
		step{"KubeAPIServerLogin", s.kubeAPIServerLogin},
		step{"Prometheus", func(t *testing.T) {
			prom = n.startPrometheus(t, s.ns, len(n.podsReady(t, s.ns, serverPods))+len(n.podsReady(t, s.ns, managerPods)))
		}},
		step{"StartLoad", func(t *testing.T) { loadStart, l = time.Now(), n.startLoad(t, s.ns, s.inPod) }},
		step{"Guess", func(t *testing.T) { g = s.guess(t) }},
		step{"AuditTrail", func(t *testing.T) { s.auditTrail(t, g) }},
		step{"ThrottleState", func(t *testing.T) { s.throttleState(t, g) }},
		step{"StatusAsViewer", s.statusAsViewer},
		step{"RollingUpgrade", func(t *testing.T) { s.rollingUpgrade(t, l) }},
		step{"SIGKILL", func(t *testing.T) { s.sigkill(t, l) }},
		step{"Drain", func(t *testing.T) { s.drain(t, l) }},
		step{"StopLoad", func(t *testing.T) {
			c := l.Stop(t)
			t.Logf("load after the uncordon, as the evicted token server's replacement joined: %s", c)
			lostNone(t, "load after the drain", c)
		}},
		step{"LivePanels", func(t *testing.T) { s.livePanels(t, prom, loadStart) }},
		step{"LastLogin", func(t *testing.T) { s.lastLogin(t, loadStart) }},
		step{"LeaderFailover", s.leaderFailover},
		step{"RedisPodLost", func(t *testing.T) { before = s.redisPodLoss(t) }},
		step{"RedisDataLost", func(t *testing.T) { s.redisDataLoss(t, before) }},
		step{"Uninstall", func(t *testing.T) {
			s.uninstall(t, chartLeftovers(s.prefix, true))
		}},
	) {
		s.teardown(t)
		return nil
	}
	// The guesses and the data loss, each an alert an operator acts on,
	// by its runbook, in the Prometheus that scraped the install (it keeps
	// the samples and the alerts' history after the uninstall).
	return func(t *testing.T) {
		prom.waitFired(t, n, "AuthstackPasswordGuessing", s.ns, g.start, 240)
		prom.waitFired(t, n, "AuthstackStoreEpochReset", s.ns, g.start, 60)
	}
}

// helmExternalRedis: the chart with a Redis outside the cluster (a
// redis-server on the node, with a password), a user, and a token from a
// pod.
func helmExternalRedis(t *testing.T, n *Node) {
	const password = "external-redis-password"
	n.redis(t, "redis-external", "6380", password)
	s := n.helmInstall(t, "authstack-ext", "ext", fmt.Sprintf("redis: {url: \"redis://:%s@%s:6380/0\"}\n", password, bridgeIP))
	if !steps(t,
		step{"Samples", s.samples},
		step{"TokenFromPod", s.tokenFromPod},
		step{"Uninstall", func(t *testing.T) {
			s.uninstall(t, chartLeftovers(s.prefix, false))
		}},
	) {
		s.teardown(t)
	}
}

// kustomize: kubectl apply -k config/default, with an overlay that names
// the local image, and the Redis Secret it asks the installer for.
func kustomize(t *testing.T, n *Node) {
	const ns, password = "authstack-system", "kustomize-redis-password"
	n.redis(t, "redis-kustomize", "6381", password)
	overlay := n.mkdir(t, "kustomize")
	n.file(t, "kustomize/kustomization.yaml", fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
images:
- name: authstack
  newName: docker.io/local/authstack
  newTag: dev
patches:
- target: {kind: Deployment}
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/imagePullPolicy
      value: Never
`, rel(t, overlay, filepath.Join(n.root, "config", "default"))))
	n.kubectl(t, "create", "namespace", ns)
	n.kubectl(t, "create", "secret", "generic", "authstack-redis", "-n", ns,
		fmt.Sprintf("--from-literal=url=redis://:%s@%s:6381/0", password, bridgeIP))
	start := time.Now()
	n.kubectl(t, "apply", "-k", overlay)
	n.kubectl(t, "wait", "-n", ns, "--for=condition=Available", "deployment", "--all", "--timeout=180s")
	pods := n.podsReady(t, ns, "")
	if !t.Failed() {
		t.Logf("kubectl apply -k config/default: %d pods Ready, no container restarted, %.1fs", len(pods), time.Since(start).Seconds())
	}
	// They waited for the manager's keys rather than exit, and said so.
	for _, p := range n.podsReady(t, ns, serverPods) {
		if log := n.podLog(ns, p.Name, false); !strings.Contains(log, "no signing key yet") {
			t.Errorf("token server %s did not say it waits for the signing keys:%s", p.Name, log)
		}
	}
	s := n.stack(t, ns, "", "authstack-", "authstack")
	steps(t,
		step{"Samples", s.samples},
		step{"TokenFromPod", s.tokenFromPod},
		step{"Delete", func(t *testing.T) {
			s.deleteUsers(t)
			n.kubectl(t, "delete", "-k", overlay, "--wait", "--timeout=120s")
			// The namespace, with the Secrets and the Lease in it, and the
			// CRDs were all in the kustomization.
			s.wantLeft(t, nil)
		}},
	)
}

// rel is target relative to dir: kustomize refuses an absolute path.
func rel(t *testing.T, dir, target string) string {
	r, err := filepath.Rel(dir, target)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// redis runs a redis-server outside the cluster, on the node's bridge
// address, with a password, and returns once it answers.
func (n *Node) redis(t *testing.T, name, port, password string) {
	n.daemon(t, name, "/usr/bin/redis-server", "--bind", bridgeIP, "--port", port,
		"--requirepass", password, "--save", "", "--appendonly", "no", "--dir", n.mkdir(t, name))
	n.waitFor(t, name, 30, func() error {
		cmd := n.nsCommand("redis-cli", "-h", bridgeIP, "-p", port, "--no-auth-warning", "-a", password, "ping")
		out, err := cmd.CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) != "PONG" {
			err = fmt.Errorf("%s", out)
		}
		return err
	})
}

// chartLeftovers is what the chart's README says helm uninstall leaves,
// sorted as leftovers lists it: the CRDs, what the manager wrote (the
// signing-keys Secret, the leader-election Lease) and, with the bundled
// Redis, its claim and password Secret.
func chartLeftovers(prefix string, bundledRedis bool) []string {
	left := []string{
		"customresourcedefinition.apiextensions.k8s.io/authclients.authstack.dev",
		"customresourcedefinition.apiextensions.k8s.io/authusers.authstack.dev",
		"customresourcedefinition.apiextensions.k8s.io/tenancypolicies.authstack.dev",
		"lease.coordination.k8s.io/authstack-manager.authstack.dev",
		"secret/authstack-signing-keys",
	}
	if bundledRedis {
		left = append(left, "persistentvolumeclaim/data-"+prefix+"redis-0", "secret/"+prefix+"redis")
	}
	sort.Strings(left)
	return left
}
