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

// Package testenv locates the envtest binaries that hack/setup-envtest.sh
// builds, and holds the scheme tests share.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/authstack/authstack/controllers"
)

// Root is the repository root: the directory of the go.mod of the test's
// package (go env GOMOD from its directory, where go test runs it), which
// holds with -trimpath too, unlike this file's compiled-in path. It panics
// when go cannot say.
var Root = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		panic(fmt.Sprintf("testenv: no go.mod above the test's directory (go env GOMOD: %q, %v)", gomod, err))
	}
	return filepath.Dir(gomod)
})

// KubernetesVersion is the version hack/setup-envtest.sh builds: the first
// line of hack/kubernetes-version that is not a comment, the one place it is
// pinned. It panics when the file cannot be read.
func KubernetesVersion() string {
	path := filepath.Join(Root(), "hack", "kubernetes-version")
	b, err := os.ReadFile(path)
	if err != nil {
		panic(fmt.Sprintf("testenv: %v", err))
	}
	v, err := parseVersion(b)
	if err != nil {
		panic(fmt.Sprintf("testenv: %s: %v", path, err))
	}
	return v
}

// parseVersion returns the first line that is neither blank nor a comment.
func parseVersion(b []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "v1.") {
			return "", fmt.Errorf("%q is not a Kubernetes version (v1.X.Y)", line)
		}
		return line, nil
	}
	return "", fmt.Errorf("no version line")
}

// Assets returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, else bin/k8s/<version>-<os>-<arch> in the repository.
// It panics with the command to run when neither has the binaries: tests
// against a real API server must not be skipped silently.
func Assets() string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(Root(), "bin", "k8s", KubernetesVersion()+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			panic(fmt.Sprintf("envtest binaries not found in %s (%v): run hack/setup-envtest.sh (make test does)", dir, err))
		}
	}
	return dir
}

// Scheme holds the kinds the tests use: the manager's.
func Scheme() *k8sruntime.Scheme { return controllers.Scheme() }

// Env is the API server of a package's tests: its config and a client.
type Env struct {
	Config *rest.Config
	Client client.Client
	// CertDir is kube-apiserver's certificate directory. Its sa-signer.key
	// (PKCS #8 PEM) is the --service-account-signing-key-file, with which a
	// test signs ServiceAccount tokens the API server itself would not
	// issue (one already expired).
	CertDir string
	plane   *envtest.ControlPlane // adds users (Kubeconfig)
}

// Main is the TestMain of a package whose tests need a real API server: it
// starts one kube-apiserver and etcd (envtest) with the CRDs installed,
// fills in e, runs the tests, stops the server and exits. The managers'
// logs are quiet unless AUTHSTACK_TEST_LOG=1.
func Main(m *testing.M, e *Env) {
	env, started, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*e = *started
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
	}
	os.Exit(code)
}

// Lazy is the API server of a package of which only some tests need one:
// the first to ask (Get) starts it, and the package's TestMain calls Stop
// after m.Run.
type Lazy struct {
	once sync.Once
	env  *envtest.Environment
	e    *Env
	err  error
}

// Get starts the API server on first use and returns it.
func (l *Lazy) Get(t *testing.T) *Env {
	t.Helper()
	l.once.Do(func() { l.env, l.e, l.err = Start() })
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.e
}

// Stop stops the API server, if one was started.
func (l *Lazy) Stop() {
	if l.env == nil {
		return
	}
	if err := l.env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
	}
}

// Start starts kube-apiserver and etcd with the CRDs installed, quiets
// controller-runtime's log (AUTHSTACK_TEST_LOG=1: debug), and returns the
// environment (the caller stops it) and a client of it. Main and Lazy call
// it; so do tools that need an API server outside a test (hack/soak).
func Start() (*envtest.Environment, *Env, error) {
	level := slog.LevelError
	if os.Getenv("AUTHSTACK_TEST_LOG") == "1" {
		level = slog.LevelDebug
	}
	logf.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(Root(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: Assets(),
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	return env, &Env{Config: cfg, Client: c, CertDir: env.ControlPlane.APIServer.CertDir, plane: &env.ControlPlane}, nil
}

// Kubeconfig writes the kubeconfig of a new user of the API server, in
// groups (none: a user that may do nothing until RBAC lets it), and
// returns its path.
func (e *Env) Kubeconfig(t *testing.T, name string, groups ...string) string {
	t.Helper()
	return UserKubeconfig(t, e.plane, name, groups...)
}

// UserKubeconfig is Kubeconfig for the API server of plane: an envtest
// Environment a test started itself.
func UserKubeconfig(t *testing.T, plane *envtest.ControlPlane, name string, groups ...string) string {
	t.Helper()
	path, err := WriteKubeconfig(plane, t.TempDir(), name, groups...)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteKubeconfig writes into dir the kubeconfig of a new user of plane's
// API server, in groups, and returns its path.
func WriteKubeconfig(plane *envtest.ControlPlane, dir, name string, groups ...string) (string, error) {
	u, err := plane.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+"-kubeconfig")
	return path, os.WriteFile(path, kc, 0o600)
}

// Namespace creates a namespace of its own for one test.
func (e *Env) Namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// HelmEnv is the environment that keeps helm's cache, configuration and
// data under home, out of the user's: the chart tests' and the cluster
// test's helm runs.
func HelmEnv(home string) []string {
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "data"),
	}
}
