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

package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/dashboard"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
)

const alicePassword = "wonderland-rabbit-42"

// startPrometheus runs $PROMETHEUS (hack/setup-prometheus.sh prometheus's,
// which make test passes) scraping target every second with the labels a
// ServiceMonitor adds, and returns its API once it is ready.
func startPrometheus(t *testing.T, target string) v1.API {
	t.Helper()
	bin := os.Getenv("PROMETHEUS")
	if bin == "" {
		t.Fatal("PROMETHEUS is not set: run make test, or PROMETHEUS=$(hack/setup-prometheus.sh prometheus) go test ./internal/dashboard/")
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: authstack
    static_configs:
      - targets: [%q]
        labels: {namespace: authstack, pod: authstack-0}
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := authtest.MustFreeAddr(t)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	ready := false
	for range 300 { // 30 s at most
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if ready = resp.StatusCode == http.StatusOK; ready {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ready {
		t.Fatalf("prometheus on %s not ready in 30 s", addr)
	}
	client, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(client)
}

// tokenServer is a real token server (authserver.New on the memory store)
// with user alice, its API and its operations listener (/metrics) served.
func tokenServer(t *testing.T) (apiURL, opsAddr string) {
	t.Helper()
	st := memory.New()
	if err := st.PutUser(t.Context(), store.User{Username: "alice", PasswordHash: authtest.Hash(t, alicePassword), Scopes: []string{"read"}, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	srv, err := authserver.New(authserver.Config{
		Issuer: "https://auth.test", Store: st, Keys: signer.Static(authtest.KeySet(t, signer.AlgES256)),
		PublicClientID: "default", HashParams: authtest.FastParams,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(t.Context())
	apiSrv := httptest.NewServer(srv.Handler())
	t.Cleanup(apiSrv.Close)
	ops := httptest.NewServer(srv.OpsHandler())
	t.Cleanup(ops.Close)
	return apiSrv.URL, strings.TrimPrefix(ops.URL, "http://")
}

func login(t *testing.T, apiURL, pw string, want int) {
	t.Helper()
	resp, err := http.PostForm(apiURL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("login: %d, want %d", resp.StatusCode, want)
	}
}

// The whole dashboard, evaluated by a real Prometheus scraping a real
// token server that serves logins: no query fails, the panels of what the
// test did have points, the namespace variable selects, and the drawing
// is an SVG naming every panel.
func TestEvaluateAgainstPrometheus(t *testing.T) {
	apiURL, opsAddr := tokenServer(t)
	prom := startPrometheus(t, opsAddr)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	// Logins (good and wrong) until Prometheus has scraped at least 6
	// times, so that every rate spans several samples with logins between
	// them.
	scrapes := 0
	for range 600 { // 60 s at most
		login(t, apiURL, alicePassword, http.StatusOK)
		login(t, apiURL, "wrong", http.StatusBadRequest)
		v, _, _, err := prom.Query(ctx, `count_over_time(up{job="authstack"}[5m])`, time.Now())
		if err == nil {
			if vec, ok := v.(model.Vector); ok && len(vec) == 1 {
				scrapes = int(vec[0].Value)
			}
		}
		if scrapes >= 6 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if scrapes < 6 {
		t.Fatalf("prometheus scraped the token server %d times in 60 s", scrapes)
	}
	d := dashboard.Shipped(t)
	r := v1.Range{Start: start, End: time.Now(), Step: time.Second}
	vars := dashboard.Vars{Values: map[string][]string{"namespace": {"authstack"}}, ScrapeInterval: time.Second}
	results, err := dashboard.Evaluate(ctx, prom, d, r, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 12 {
		t.Fatalf("%d panel results, want 12", len(results))
	}
	// What the test fed, by panel title and query.
	fed := map[string][]string{
		"Logins per second by outcome":         {"A"},
		"/token latency against the hash time": {"A", "B", "C", "D"},
		"The hash queue and 503s":              {"C"},
		"Throttle hits":                        {"B"},
		"Mirror staleness":                     {"A"},
		"Mirror size":                          {"A", "B"},
	}
	for _, pr := range results {
		for _, tr := range pr.Targets {
			if tr.Err != nil || len(tr.Warnings) > 0 {
				t.Errorf("panel %q query %s: %v %v", pr.Panel.Title, tr.Target.RefID, tr.Err, tr.Warnings)
			}
			if strings.Contains(tr.Expr, "$") {
				t.Errorf("panel %q query %s sent unexpanded: %s", pr.Panel.Title, tr.Target.RefID, tr.Expr)
			}
		}
		for _, ref := range fed[pr.Panel.Title] {
			tr := target(pr, ref)
			points := 0
			for _, s := range tr.Series {
				points += s.Finite()
			}
			if points == 0 {
				t.Errorf("panel %q query %s (%s): no finite point in %d series", pr.Panel.Title, ref, tr.Expr, len(tr.Series))
			}
		}
		delete(fed, pr.Panel.Title)
	}
	if len(fed) > 0 {
		t.Errorf("panels not in the results: %v", fed)
	}
	logins := target(results[0], "A")
	names := map[string]bool{}
	for _, s := range logins.Series {
		names[s.Name] = true
	}
	if !names["password success"] || !names["password invalid_grant"] {
		t.Errorf("the logins panel's legends: %v", names)
	}
	// The namespace variable selects: another namespace has no logins.
	other, err := dashboard.Evaluate(ctx, prom, d, r, dashboard.Vars{Values: map[string][]string{"namespace": {"elsewhere"}}, ScrapeInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(target(other[0], "A").Series); n != 0 {
		t.Errorf("namespace elsewhere: %d series of logins", n)
	}

	info, err := prom.Buildinfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var svg strings.Builder
	if err := dashboard.RenderSVG(&svg, d, results, dashboard.RenderOptions{Range: r, PrometheusVersion: info.Version, Vars: vars}); err != nil {
		t.Fatal(err)
	}
	texts := dashboard.SVGTexts(t, svg.String())
	for _, p := range d.Panels {
		if !strings.Contains(texts, p.Title+"\n") {
			t.Errorf("the SVG does not name panel %q", p.Title)
		}
	}
	for _, want := range []string{"password success", "Prometheus " + info.Version, "authstack\n"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the SVG does not say %q", want)
		}
	}
	if strings.Count(texts, "No data") > 6 {
		t.Errorf("%d panels without data", strings.Count(texts, "No data"))
	}

	// A query Prometheus refuses is an error naming its panel and query;
	// the other panels are still evaluated.
	broken := dashboard.Shipped(t)
	broken.Panels[1].Targets[0].Expr = `rate(authstack_token_requests_total[`
	broken.Panels[2].Targets[1].Expr = `no_such_function(up)`
	results, err = dashboard.Evaluate(ctx, prom, broken, r, vars)
	if err == nil {
		t.Fatal("broken queries evaluated without an error")
	}
	for _, want := range []string{`panel 2 "Logins per second by outcome", query A`, `panel 3 "/token latency against the hash time", query B`, "no_such_function"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if len(results) != 12 || target(results[1], "A").Err != nil || len(target(results[1], "A").Series) == 0 {
		t.Error("a broken query stopped the evaluation of the others")
	}
}

func target(pr dashboard.PanelResult, ref string) dashboard.TargetResult {
	for _, tr := range pr.Targets {
		if tr.Target.RefID == ref {
			return tr
		}
	}
	return dashboard.TargetResult{}
}
