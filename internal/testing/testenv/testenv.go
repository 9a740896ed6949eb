// Package testenv locates the envtest binaries that hack/setup-envtest.sh
// builds, and holds the scheme tests share.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/authstack/authstack/controllers"
)

// KubernetesVersion is the version hack/setup-envtest.sh builds.
const KubernetesVersion = "v1.37.2"

// Assets returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, else bin/k8s/<version>-<os>-<arch> in the repository.
// It panics with the command to run when neither has the binaries: tests
// against a real API server must not be skipped silently.
func Assets() string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir = filepath.Join(root, "bin", "k8s", KubernetesVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
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
