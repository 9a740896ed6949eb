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

package cmd

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/authstack/authstack/authserver/serviceaccount"
)

// noCluster leaves the test without any Kubernetes configuration: no
// $KUBECONFIG, no ~/.kube/config, not in a pod.
func noCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
}

// --service-account-clients without a cluster to ask stops the server at
// start, before it reaches for Redis, and says why.
func TestServerServiceAccountClientsNeedACluster(t *testing.T) {
	noCluster(t)
	_, _, err := run(t, "server", "--redis-url", "redis://127.0.0.1:1/0", "--signing-keys", t.TempDir(),
		"--issuer", "https://auth.example.test", "--service-account-clients")
	if err == nil || !strings.Contains(err.Error(), "--service-account-clients") || !strings.Contains(err.Error(), "--kubeconfig") {
		t.Fatalf("server: %v; want the missing cluster configuration named", err)
	}
}

func TestServiceAccountFlags(t *testing.T) {
	noCluster(t)
	kubeconfig := unreachableKubeconfig(t)
	const issuer = "https://auth.example.test"
	parse := func(args ...string) *serviceAccountFlags {
		t.Helper()
		var f serviceAccountFlags
		fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
		f.addFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &f
	}
	if v, err := parse().verifier(issuer); v != nil || err != nil {
		t.Errorf("off by default: %v, %v", v, err)
	}
	for _, args := range [][]string{{"--service-account-audience", "x"}, {"--kubeconfig", kubeconfig}} {
		if _, err := parse(args...).verifier(issuer); err == nil {
			t.Errorf("%v without --service-account-clients accepted", args)
		}
	}
	for _, tc := range []struct {
		issuer string
		args   []string
		want   []string
	}{
		{issuer, nil, []string{issuer}},
		// Spelled otherwise on the command line, it is still the issuer of
		// the tokens and the metadata, which the projections name.
		{"https://Auth.Example.test/", nil, []string{issuer}},
		{issuer, []string{"--service-account-audience", "https://a.example,https://b.example"}, []string{"https://a.example", "https://b.example"}},
	} {
		v, err := parse(append([]string{"--service-account-clients", "--kubeconfig", kubeconfig}, tc.args...)...).verifier(tc.issuer)
		if err != nil {
			t.Fatal(err)
		}
		sv, ok := v.(*serviceaccount.Verifier)
		if !ok || !reflect.DeepEqual(sv.Audiences, tc.want) {
			t.Errorf("%s %v: verifier %#v, want audiences %v", tc.issuer, tc.args, v, tc.want)
		}
	}
	if _, err := parse("--service-account-clients", "--kubeconfig", filepath.Join(t.TempDir(), "missing")).verifier(issuer); err == nil {
		t.Error("a missing kubeconfig accepted")
	}
}
