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

package kubecredential_test

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/internal/kubecredential"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func readCA(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testKubeconfig() kubecredential.Kubeconfig {
	return kubecredential.Kubeconfig{
		Key:     kubecredential.Key{Issuer: "https://auth.example.test/auth", ClientID: "kubectl", Username: "alice"},
		CAFile:  "/etc/authstack/ca.pem",
		Scopes:  []string{"read"},
		Command: "/usr/local/bin/authstack",
		Name:    "authstack",
	}
}

// The user entry alone: an exec plugin running `authstack login` with the
// login's flags, which may prompt when kubectl has a terminal. It loads
// as a kubeconfig.
func TestKubeconfigUserEntry(t *testing.T) {
	k := testKubeconfig()
	b, err := k.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kubeconfig-user.yaml", b)
	cfg, err := clientcmd.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	exec := cfg.AuthInfos["authstack"].Exec
	if exec == nil || exec.Command != k.Command || exec.InteractiveMode != "IfAvailable" || exec.APIVersion != kubecredential.ExecAPIVersion {
		t.Fatalf("exec = %+v", exec)
	}
}

// With --cluster-server, a whole kubeconfig that clientcmd validates.
func TestKubeconfigWithCluster(t *testing.T) {
	k := testKubeconfig()
	k.ClusterServer = "https://k8s.example.test:6443"
	k.ClusterCA = readCA(t)
	b, err := k.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kubeconfig-cluster.yaml", b)
	cfg, err := clientcmd.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Fatalf("clientcmd.Validate: %v", err)
	}
	if cfg.CurrentContext != "authstack" || string(cfg.Clusters["authstack"].CertificateAuthorityData) != string(k.ClusterCA) {
		t.Errorf("context %q, cluster %+v", cfg.CurrentContext, cfg.Clusters["authstack"])
	}
}

// The AuthenticationConfiguration parses back into its type, and
// the mappings and rules are those docs/kubernetes.md gives. That
// kube-apiserver's strict decoding and validation (CEL included) accept it
// is shown by test/e2e's TestKubectl, whose API server is started with it
// (and does not start with a configuration it refuses): here it would
// cost every cold build the compile of kube-apiserver's CEL.
func TestAuthenticationConfiguration(t *testing.T) {
	a := kubecredential.Authentication{
		Issuer: "https://auth.example.test/auth", Audience: "kubernetes", CA: readCA(t),
		Prefix: "authstack:",
	}
	b, err := yaml.Marshal(a.Config())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "authentication-config.yaml", b)
	var back kubecredential.AuthenticationConfiguration
	if err := yaml.UnmarshalStrict(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a.Config()) {
		t.Errorf("parsed back: %+v", back)
	}

	jwt := back.JWT[0]
	if jwt.Issuer.URL != a.Issuer || !reflect.DeepEqual(jwt.Issuer.Audiences, []string{"kubernetes"}) || jwt.Issuer.CertificateAuthority != string(a.CA) ||
		jwt.ClaimMappings.Username != (kubecredential.PrefixedClaim{Claim: "preferred_username", Prefix: "authstack:"}) ||
		jwt.ClaimMappings.Groups != (kubecredential.PrefixedClaim{Claim: "groups", Prefix: "authstack:"}) ||
		!reflect.DeepEqual(jwt.ClaimValidationRules, []kubecredential.ClaimValidationRule{kubecredential.AccessTokensOnly}) {
		t.Errorf("%+v", jwt)
	}
}

// The webhook configuration points at the issuer's /tokenreview, path
// kept, trusting the CA; clientcmd validates it.
func TestWebhookConfig(t *testing.T) {
	ca := readCA(t)
	b, err := yaml.Marshal(kubecredential.WebhookConfig("https://auth.example.test/auth", ca))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "webhook-config.yaml", b)
	cfg, err := clientcmd.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Fatalf("clientcmd.Validate: %v", err)
	}
	if got := cfg.Clusters["authstack"].Server; got != "https://auth.example.test/auth/tokenreview" {
		t.Errorf("server = %q", got)
	}
}
