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
	"os"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/authstack/authstack/controllers/credentials"
)

// The manager's throughput defaults are what docs/operations.md says, and
// the default --kube-api-qps leaves client-go without a rate limiter.
func TestManagerThroughputDefaults(t *testing.T) {
	fs := newManagerCommand().Flags()
	if got := fs.Lookup("kube-api-qps").DefValue; got != "-1" {
		t.Errorf("--kube-api-qps default %s, want -1 (no client-side limit)", got)
	}
	if got := fs.Lookup("max-concurrent-reconciles").DefValue; got != "0" {
		t.Errorf("--max-concurrent-reconciles default %s, want 0 (credentials.DefaultMaxConcurrentReconciles)", got)
	}
	if got := fs.Lookup("pprof-bind-address").DefValue; got != "" {
		t.Errorf("--pprof-bind-address default %q, want off", got)
	}
	cfg := &rest.Config{Host: "https://127.0.0.1:1", QPS: DefaultKubeAPIQPS, Burst: 200,
		ContentConfig: rest.ContentConfig{NegotiatedSerializer: scheme.Codecs.WithoutConversion()}}
	rc, err := rest.UnversionedRESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetRateLimiter() != nil {
		t.Errorf("a client at --kube-api-qps %v has a rate limiter", DefaultKubeAPIQPS)
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"`--kube-api-qps` (default `-1`",
		"`--max-concurrent-reconciles` (default `0`: " + strconv.Itoa(credentials.DefaultMaxConcurrentReconciles),
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/operations.md does not say %q", want)
		}
	}
}
