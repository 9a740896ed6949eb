//go:build linux

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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// observedNamespace is the namespace label of every scrape target, and
// the manager's namespace: what the dashboard's namespace variable selects.
const observedNamespace = "authstack"

// managerUsers are the AuthUsers the manager serves during the soak, one
// of them with a Secret that does not exist (so that it is not Ready).
var managerUsers = []string{"dashboard-0", "dashboard-1", "dashboard-2", "dashboard-3", "dashboard-missing"}

// manager is a real kube-apiserver and etcd (envtest) and `authstack
// manager` on the soak's Redis, serving observedNamespace only: the soak's
// own users (source soak/...) are outside it, so it leaves them alone.
type manager struct {
	env     *envtest.Environment
	child   *benchkit.Child
	metrics string // host:port of its /metrics
}

func startManager(ctx context.Context, binary, redisURL, dir string) (*manager, error) {
	env, e, err := testenv.Start()
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	m := &manager{env: env}
	kubeconfig, err := testenv.WriteKubeconfig(&env.ControlPlane, dir, "soak", "system:masters")
	if err != nil {
		m.stop()
		return nil, err
	}
	c := e.Client
	objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: observedNamespace}}}
	for _, name := range managerUsers {
		secret := name + "-password"
		if !strings.HasSuffix(name, "-missing") {
			objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: observedNamespace},
				StringData: map[string]string{"password": userPassword}})
		}
		objs = append(objs, &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: observedNamespace},
			Spec: v1alpha1.AuthUserSpec{PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: secret}, Scopes: []string{"read"}}})
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			m.stop()
			return nil, fmt.Errorf("create %s: %w", o.GetName(), err)
		}
	}
	if m.metrics, err = authtest.FreeAddr(); err != nil {
		m.stop()
		return nil, err
	}
	m.child, err = benchkit.Command{Name: "manager", Path: binary, Args: []string{"manager", "--kubeconfig", kubeconfig,
		"--redis-url", redisURL, "--namespace", observedNamespace, "--manager-namespace", observedNamespace,
		"--signing-keys-namespace", observedNamespace, "--metrics-bind-address", m.metrics,
		"--health-probe-bind-address", "127.0.0.1:0", "--log-level", "error"}}.Start()
	if err != nil {
		m.stop()
		return nil, err
	}
	// Its metrics answer once it runs (bounded: 60 s).
	for range 600 {
		if m.child.Exited() {
			break
		}
		if resp, err := http.Get("http://" + m.metrics + "/metrics"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := m.child.Output()
	m.stop()
	return nil, fmt.Errorf("the manager's metrics on %s did not answer:\n%s", m.metrics, out)
}

func (m *manager) stop() {
	if m.child != nil {
		m.child.Stop(10 * time.Second)
	}
	if err := m.env.Stop(); err != nil {
		benchkit.Progress("stopping kube-apiserver and etcd: %v", err)
	}
}

// target is one entry of a Prometheus file_sd file.
type target struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// writeScrapeConfig writes file, a Prometheus file_sd file of every
// process's metrics address with the labels the chart's ServiceMonitors
// give them (namespace, pod), so that the dashboard works on the soak.
func writeScrapeConfig(file string, c *cluster, m *manager) error {
	var targets []target
	for i, s := range c.servers {
		targets = append(targets, target{Targets: []string{strings.TrimPrefix(s.Ops, "http://")},
			Labels: map[string]string{"namespace": observedNamespace, "pod": fmt.Sprint("replica-", i), "job": "authstack-server"}})
	}
	if m != nil {
		targets = append(targets, target{Targets: []string{m.metrics},
			Labels: map[string]string{"namespace": observedNamespace, "pod": "manager", "job": "authstack-manager"}})
	}
	b, err := json.MarshalIndent(targets, "", "  ")
	if err != nil {
		return err
	}
	// Written whole and renamed: Prometheus watches the file.
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
