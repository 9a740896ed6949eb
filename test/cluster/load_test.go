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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/authstack/authstack/test/cluster/load"
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

// loadWorkers is loadgen's concurrency: at most this many requests are in
// flight at once.
const loadWorkers = 4

// startLoad starts the load pod against the Service base and returns once
// it answers. It runs until Stop (or its -max): later steps use it.
func (n *Node) startLoad(t testing.TB, ns, base string) *Load {
	t.Helper()
	pod := loadgenPod(ns, "loadgen", "load", "-url", base, "-audience", audience,
		"-workers", fmt.Sprint(loadWorkers), "-rate", "300", "-token-rate", "4", "-listen", ":8080", "-max", "5m")
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
func (l *Load) Stop(t testing.TB) load.Counts {
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

func (l *Load) call(path string) (load.Counts, error) {
	var c load.Counts
	req, err := http.NewRequest(http.MethodPost, l.addr+path, nil)
	if err != nil {
		return c, err
	}
	return c, l.n.jsonCall(req, http.StatusOK, &c)
}

// Phase returns the counts since the last phase.
func (l *Load) Phase(t testing.TB) load.Counts {
	t.Helper()
	c, err := l.call("/phase")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jsonCall sends req from the node and decodes its JSON answer into out
// (when out is not nil and there is a body), failing on any status but
// want.
func (n *Node) jsonCall(req *http.Request, want int, out any) error {
	resp, err := n.HTTP().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
	return nil
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
