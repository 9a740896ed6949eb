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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The images make image-archives writes, imported on the node.
const (
	redisImage   = "docker.io/local/redis:dev"
	loadgenImage = "docker.io/local/loadgen:dev"
	// audience is the sample AuthClient's (config/samples): /verify
	// requires it.
	audience = "https://billing.example.com"
	// issuer is the chart's issuer in these tests: an identifier only,
	// nothing dials it.
	issuer = "https://authstack.test"
)

// command runs a program as the cluster's admin (KUBECONFIG) in the node's
// network namespace, where the API server's address is, with helm's
// directories under the node's, and returns its standard output (warnings
// on standard error are dropped unless it fails). stdin may be empty.
func (n *Node) command(stdin, name string, args ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + n.NetNS, "--", name}, args...)...)
	helmHome := filepath.Join(n.Dir, "helm")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+n.Kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"), "HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"))
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out), nil
}

// kubectl runs kubectl and fails the test on an error.
func (n *Node) kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.command("", "kubectl", args...)
	if err != nil {
		t.Fatalf("%v%s", err, n.logs())
	}
	return out
}

// apply is kubectl apply -f - of manifest.
func (n *Node) apply(t testing.TB, ns, manifest string) {
	t.Helper()
	if _, err := n.command(manifest, "kubectl", "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// helm runs the helm make test builds (hack/setup-helm.sh, in $HELM).
func (n *Node) helm(t testing.TB, args ...string) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Fatal("HELM is not set: run hack/setup-helm.sh and set HELM to the path it prints (make test does)")
	}
	out, err := n.command("", bin, args...)
	if err != nil {
		t.Fatalf("%v%s", err, n.logs())
	}
	return out
}

// HTTP is a client whose connections start in the node's network
// namespace: it reaches ClusterIPs (through kube-proxy's rules) and pod
// addresses.
func (n *Node) HTTP() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: nsDialer(n.NetNS)}}
}

// podsReady fails unless every pod in ns matching selector is Ready with
// no container restarted, and returns them.
func (n *Node) podsReady(t testing.TB, ns, selector string) []corev1.Pod {
	t.Helper()
	pods, err := n.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if !podReady(&p) {
			t.Fatalf("pod %s is not Ready: %+v", p.Name, p.Status.Conditions)
		}
		for _, c := range p.Status.ContainerStatuses {
			if c.RestartCount != 0 {
				t.Errorf("pod %s: container %s restarted %d times; last state %+v%s", p.Name, c.Name, c.RestartCount, c.LastTerminationState, n.podLog(p.Namespace, p.Name, true))
			}
		}
	}
	return pods.Items
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitPods waits until exactly want pods match selector in ns, all Ready
// and none terminating.
func (n *Node) waitPods(t testing.TB, ns, selector string, want, tries int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	n.waitFor(t, fmt.Sprintf("%d Ready pods %s", want, selector), tries, func() error {
		l, err := n.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		ready, states := 0, []string{}
		for i, p := range l.Items {
			if podReady(&l.Items[i]) {
				ready++
				continue
			}
			for _, c := range p.Status.ContainerStatuses {
				states = append(states, fmt.Sprintf("%s/%s: %+v", p.Name, c.Name, c.State))
			}
		}
		if ready != want || len(l.Items) != want {
			return fmt.Errorf("%d pods, %d Ready; not Ready: %v", len(l.Items), ready, states)
		}
		pods = l.Items
		return nil
	})
	return pods
}

// podLog is a container's log (the previous instance's when previous),
// for a failure message.
func (n *Node) podLog(ns, pod string, previous bool) string {
	b, err := n.Client.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Previous: previous}).DoRaw(context.Background())
	if err != nil {
		return fmt.Sprintf("\n--- log of %s/%s: %v", ns, pod, err)
	}
	return fmt.Sprintf("\n--- log of %s/%s (previous %v):\n%s", ns, pod, previous, b)
}

// podLogs is the log of every pod matching selector, for a failure
// message.
func (n *Node) podLogs(ns, selector string) string {
	pods, err := n.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, p := range pods.Items {
		b.WriteString(n.podLog(ns, p.Name, false))
	}
	return b.String()
}

// runPod runs a pod to completion and returns its log; a failed pod fails
// the test with it.
func (n *Node) runPod(t testing.TB, pod *corev1.Pod) string {
	t.Helper()
	ctx := context.Background()
	pods := n.Client.CoreV1().Pods(pod.Namespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}) }()
	var phase corev1.PodPhase
	n.waitFor(t, "pod "+pod.Name+" done", 120, func() error {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if phase = p.Status.Phase; phase != corev1.PodSucceeded && phase != corev1.PodFailed {
			return fmt.Errorf("phase %s", phase)
		}
		return nil
	})
	out, err := pods.GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if phase != corev1.PodSucceeded {
		t.Fatalf("pod %s failed: %s", pod.Name, out)
	}
	return string(out)
}

// clientEnv is the sample user's and client's credentials, from their
// Secrets, as loadgen reads them.
func clientEnv(user, passwordSecret string) []corev1.EnvVar {
	secret := func(name, key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key,
		}}
	}
	return []corev1.EnvVar{
		{Name: "USERNAME", Value: user},
		{Name: "PASSWORD", ValueFrom: secret(passwordSecret, "password")},
		{Name: "CLIENT_ID", Value: "billing-service"},
		{Name: "CLIENT_SECRET", ValueFrom: secret("billing-service-client", "clientSecret")},
	}
}

// loadgenPod is a pod of the loadgen image with the pod security the
// chart's own pods have (restricted).
func loadgenPod(ns, name string, args ...string) *corev1.Pod {
	no, yes := false, true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: &no,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "loadgen", Image: loadgenImage, ImagePullPolicy: corev1.PullNever,
				Args: args, Env: clientEnv("alice", "alice-password"),
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// Load is a loadgen load pod calling the token server's Service.
type Load struct {
	n    *Node
	ns   string
	addr string // the pod's control address
}

// Counts is what loadgen reports for a phase (test/cluster/loadgen).
type Counts struct {
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	Failed   int     `json:"failed"`
	Redials  int     `json:"redials"`
	Failures []struct {
		At        string `json:"at"`
		Transport bool   `json:"transport"`
		Error     string `json:"error"`
	} `json:"failures"`
}

func (c Counts) String() string {
	return fmt.Sprintf("%d requests in %.1fs (%.0f/s), %d failed, %d refused connections retried", c.Requests, c.Seconds, float64(c.Requests)/c.Seconds, c.Failed, c.Redials)
}

// loadWorkers is loadgen's concurrency: at most this many requests are in
// flight at once.
const loadWorkers = 4

// startLoad starts the load pod against the Service base and returns once
// it answers. It runs until Stop (or its -max): later steps use it.
func (n *Node) startLoad(t testing.TB, ns, base string) *Load {
	t.Helper()
	pod := loadgenPod(ns, "loadgen", "load", "-url", base, "-audience", audience,
		"-workers", fmt.Sprint(loadWorkers), "-token-rate", "4", "-listen", ":8080", "-max", "5m")
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 1,
	}
	if _, err := n.Client.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := n.waitPods(t, ns, "app=loadgen", 1, 60)[0]
	l := &Load{n: n, ns: ns, addr: "http://" + p.Status.PodIP + ":8080"}
	// A first phase with successes: the load runs.
	n.waitFor(t, "load running", 30, func() error {
		c, err := l.call("/phase")
		if err != nil {
			return err
		}
		if c.Requests == 0 || c.Failed != 0 {
			return fmt.Errorf("warm-up: %s %v", c, c.Failures)
		}
		return nil
	})
	return l
}

// Stop stops the load, deletes its pod and returns the last counts.
func (l *Load) Stop(t testing.TB) Counts {
	t.Helper()
	c, err := l.call("/stop")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.n.Client.CoreV1().Pods(l.ns).Delete(ctx, "loadgen", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	l.n.waitFor(t, "the load pod gone", 30, func() error {
		_, err := l.n.Client.CoreV1().Pods(l.ns).Get(ctx, "loadgen", metav1.GetOptions{})
		if err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	return c
}

func (l *Load) call(path string) (Counts, error) {
	var c Counts
	resp, err := l.n.HTTP().Post(l.addr+path, "", nil)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, err
	}
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("loadgen %s: %s: %s", path, resp.Status, b)
	}
	return c, json.Unmarshal(b, &c)
}

// Phase returns the counts since the last phase.
func (l *Load) Phase(t testing.TB) Counts {
	t.Helper()
	c, err := l.call("/phase")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// token gets a token for user with the password grant through the
// Service at base, from the node, and returns the whole response.
func (n *Node) token(base, user, password, clientSecret string) (map[string]any, error) {
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("billing-service", clientSecret)
	return n.jsonCall(req, http.StatusOK)
}

func (n *Node) jsonCall(req *http.Request, want int) (map[string]any, error) {
	resp, err := n.HTTP().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
	return m, nil
}

// verify asks /verify about an access token and returns its status code.
func (n *Node) verify(base, accessToken string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/verify?audience="+url.QueryEscape(audience), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := n.HTTP().Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
