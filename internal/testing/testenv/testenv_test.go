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

package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The version file parses, and Assets finds the binaries under bin/ without
// KUBEBUILDER_ASSETS (the path setup-envtest.sh prints).
func TestAssetsFromTheVersionFile(t *testing.T) {
	v := KubernetesVersion()
	want := filepath.Join(Root(), "bin", "k8s", v+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	if _, err := os.Stat(filepath.Join(want, "kube-apiserver")); err != nil {
		t.Fatalf("no envtest binaries built in %s (%v): run hack/setup-envtest.sh, as make test does", want, err)
	}
	t.Setenv("KUBEBUILDER_ASSETS", "")
	if got := Assets(); got != want {
		t.Fatalf("Assets() = %s, want %s", got, want)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.37.2\n":                   "v1.37.2",
		"# comment\n\n  v1.38.0  \nx": "v1.38.0",
	} {
		if got, err := parseVersion([]byte(in)); err != nil || got != want {
			t.Errorf("parseVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "# only a comment\n", "1.37.2\n"} {
		if got, err := parseVersion([]byte(in)); err == nil {
			t.Errorf("parseVersion(%q) = %q, want an error", in, got)
		}
	}
}
