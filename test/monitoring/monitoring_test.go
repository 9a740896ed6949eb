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

// Package monitoring tests the alerting rules of config/monitoring: promtool
// checks them and runs their unit tests, every alert carries what a person
// needs (a severity, a summary, a description, a runbook section that
// exists), and every metric they name is one the token server or the
// manager registers.
package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/controllers"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/metricnames"
	"github.com/authstack/authstack/internal/testing/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type group struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

// rulesPath is the one source of the rules.
func rulesPath() string {
	return filepath.Join(testenv.Root(), "config", "monitoring", "prometheus-rules.yaml")
}

// groups reads the PrometheusRule's groups.
func groups(t *testing.T) []group {
	t.Helper()
	b, err := os.ReadFile(rulesPath())
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       struct {
			Groups []group `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(b, &pr); err != nil {
		t.Fatalf("%s: %v", rulesPath(), err)
	}
	if pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		t.Fatalf("%s: kind %q with %d groups", rulesPath(), pr.Kind, len(pr.Spec.Groups))
	}
	return pr.Spec.Groups
}

func alerts(t *testing.T) []rule {
	var out []rule
	for _, g := range groups(t) {
		out = append(out, g.Rules...)
	}
	return out
}

// promtool runs $PROMTOOL (hack/setup-prometheus.sh promtool's, which make test
// passes) in dir.
func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	bin := os.Getenv("PROMTOOL")
	if bin == "" {
		t.Fatal("PROMTOOL is not set: run make test, or PROMTOOL=$(hack/setup-prometheus.sh promtool) go test ./test/monitoring/")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

// The rules pass promtool's checks and their unit tests: every alert
// fires on input made to fire it, and stays silent on input that must not.
func TestPromtool(t *testing.T) {
	dir := t.TempDir()
	b, err := yaml.Marshal(map[string]any{"groups": groups(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(filepath.Dir(rulesPath()), "prometheus-rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus-rules_test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, dir, "check", "rules", "rules.yaml")
	promtool(t, dir, "test", "rules", "prometheus-rules_test.yaml")
	// Every alert has a unit test.
	for _, a := range alerts(t) {
		if !strings.Contains(string(tests), "alertname: "+a.Alert+"\n") {
			t.Errorf("%s has no unit test in prometheus-rules_test.yaml", a.Alert)
		}
	}
}

// Every alert is one a person can act on: a severity, a summary, a
// description, and a runbook_url naming its own section of
// docs/operations.md, which exists.
func TestAlertsHaveRunbooks(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testenv.Root(), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,4} (.+)$`).FindAllStringSubmatch(string(doc), -1) {
		anchors[anchor(m[1])] = true
	}
	const base = "https://github.com/authstack/authstack/blob/main/docs/operations.md#"
	all := alerts(t)
	if len(all) < 7 {
		t.Fatalf("%d alerts", len(all))
	}
	for _, a := range all {
		if a.Alert == "" {
			t.Errorf("a rule without an alert name: %q", a.Expr)
			continue
		}
		switch a.Labels["severity"] {
		case "critical", "warning":
		default:
			t.Errorf("%s: severity %q", a.Alert, a.Labels["severity"])
		}
		if a.Annotations["summary"] == "" || a.Annotations["description"] == "" {
			t.Errorf("%s: no summary or description", a.Alert)
		}
		want := base + strings.ToLower(a.Alert)
		if a.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", a.Alert, a.Annotations["runbook_url"], want)
		}
		if !anchors[strings.ToLower(a.Alert)] {
			t.Errorf("%s: docs/operations.md has no section %q", a.Alert, a.Alert)
		}
	}
}

// anchor is GitHub's anchor of a heading: lower case, spaces as '-', and
// punctuation other than '-' and '_' dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Every metric the rules name is one the code registers: the token
// server's registry as authserver.New builds it (the mirror's and the
// token caches' figures included), and the manager's after
// controllers.Setup (its own metrics, controller-runtime's reconcile and
// work-queue metrics, client-go's leader election).
func TestRuleMetricsAreRegistered(t *testing.T) {
	registered := metricnames.Registered(serverRegistry(t), managerRegistry(t))
	for _, a := range alerts(t) {
		names := metricnames.Names(a.Expr)
		if len(names) == 0 {
			t.Errorf("%s names no metric: %q", a.Alert, a.Expr)
		}
		if missing := metricnames.Missing(registered, names); len(missing) > 0 {
			t.Errorf("%s uses metrics no registry holds: %q", a.Alert, missing)
		}
	}
}

// serverRegistry is the registry of a token server as authserver.New
// builds it.
func serverRegistry(t *testing.T) prometheus.Collector {
	t.Helper()
	srv, err := authserver.New(authserver.Config{
		Issuer: "https://auth.test", Store: memory.New(), Keys: signer.Static(authtest.KeySet(t, signer.AlgES256)),
		PublicClientID: "default", HashParams: authtest.FastParams,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Metrics.Registry
}

// managerRegistry is controller-runtime's registry, which the manager
// serves, after controllers.Setup of a manager with signing keys.
func managerRegistry(t *testing.T) prometheus.Collector {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 testenv.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	if err := controllers.Setup(t.Context(), mgr, controllers.Options{
		Credentials: credentials.Options{Store: memory.New(), Namespaces: []string{ns}},
		SigningKeys: signingkeys.Options{Namespace: ns, Name: "authstack-signing-keys"},
	}); err != nil {
		t.Fatal(err)
	}
	reg, ok := metrics.Registry.(prometheus.Collector)
	if !ok {
		t.Fatalf("controller-runtime's registry %T is no collector", metrics.Registry)
	}
	return reg
}
