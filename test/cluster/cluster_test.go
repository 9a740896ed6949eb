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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestPodRuns: the node becomes Ready, a pod of the pause image, which is
// all local (imagePullPolicy Never), reaches Running, and a pod running the
// authstack image's binary (--help, as its non-root user) Succeeds.
func TestPodRuns(t *testing.T) {
	n := StartNode(t)
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
	n.waitFor("pod Running", 120, func() error {
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

	help := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "authstack-help", Namespace: "default"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "authstack", Image: authstackImage, ImagePullPolicy: corev1.PullNever,
				Args: []string{"--help"},
			}},
		},
	}
	start = time.Now()
	if _, err := n.Client.CoreV1().Pods("default").Create(ctx, help, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n.waitFor("authstack --help pod Succeeded", 120, func() error {
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

// TestServices: CoreDNS gives the kubernetes Service's ClusterIP, and
// kube-proxy's rules carry a connection to it to the API server.
func TestServices(t *testing.T) {
	n := StartNode(t)
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
	n.waitFor("the kubernetes Service", 30, func() error {
		_, err := c.Discovery().ServerVersion()
		return err
	})
}
