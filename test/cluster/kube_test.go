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
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/internal/testing/testenv"
)

// command runs a program as the cluster's admin (KUBECONFIG) in the node's
// network namespace, where the API server's address is, with helm's
// directories under the node's, and returns its standard output (warnings
// on standard error are dropped unless it fails). stdin may be empty.
func (n *Node) command(stdin, name string, args ...string) (string, error) {
	cmd := n.nsCommand(name, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+n.Kubeconfig), testenv.HelmEnv(filepath.Join(n.Dir, "helm"))...)
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
	out, err := n.command("", helmBin(t), args...)
	if err != nil {
		t.Fatalf("%v%s", err, n.logs())
	}
	return out
}

// HTTP is a client whose connections start in the node's network
// namespace: it reaches ClusterIPs (through kube-proxy's rules) and pod
// addresses.
// Each request has a connection of its own (no keep-alive), so none
// outlives the pod it reached.
func (n *Node) HTTP() *http.Client {
	n.httpOnce.Do(func() {
		n.http = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: nsDialer(n.NetNS), DisableKeepAlives: true}}
	})
	return n.http
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
	out, _ := n.runPodFor(t, pod)
	return out
}

// runPodFor is runPod, and returns the pod as it ended too (its address,
// say) before it is deleted.
func (n *Node) runPodFor(t testing.TB, pod *corev1.Pod) (string, *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	pods := n.Client.CoreV1().Pods(pod.Namespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}) }()
	var done *corev1.Pod
	n.waitFor(t, "pod "+pod.Name+" done", 120, func() error {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return fmt.Errorf("phase %s", p.Status.Phase)
		}
		done = p
		return nil
	})
	out, err := pods.GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod %s failed: %s", pod.Name, out)
	}
	return string(out), done
}

// helmBin is the helm make test builds (hack/setup-helm.sh, in $HELM).
func helmBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Fatal("HELM is not set: run hack/setup-helm.sh and set HELM to the path it prints (make test does)")
	}
	return bin
}
