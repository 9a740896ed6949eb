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

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/dashboard"
)

// promAddr is where the test's Prometheus listens, in the node's network
// namespace.
const promAddr = "127.0.0.1:9090"

// monitoringCRDs are the least of the Prometheus Operator's CRDs that let
// the API server take the chart's ServiceMonitors and PrometheusRule: the
// test reads them back and configures Prometheus from them, as the
// operator would.
const monitoringCRDs = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {plural: servicemonitors, singular: servicemonitor, kind: ServiceMonitor, listKind: ServiceMonitorList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: prometheusrules.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {plural: prometheusrules, singular: prometheusrule, kind: PrometheusRule, listKind: PrometheusRuleList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// monitoringValues turn on what a platform team's monitoring reads: the
// ServiceMonitors (scraped every 5 s here, so that rates over the test's
// short phases have samples), the PrometheusRule and the dashboard.
const monitoringValues = `serviceMonitor: {enabled: true, interval: 5s}
prometheusRule: {enabled: true}
grafanaDashboard: {enabled: true}
`

// Prometheus is a real Prometheus server (make prometheus's, in
// $PROMETHEUS) in the node's network namespace, configured from the
// ServiceMonitors and PrometheusRules of one namespace the way the
// Prometheus Operator configures one: it discovers the Services'
// EndpointSlices through the API server, keeps the endpoints the
// ServiceMonitor selects, labels their series with namespace, pod,
// service and job, and evaluates the rules every 5 s.
type Prometheus struct {
	API   promv1.API
	Rules []string // the alerts in the rules, by name
}

// serviceMonitor is the part of a monitoring.coreos.com/v1 ServiceMonitor
// the test turns into a scrape configuration.
type serviceMonitor struct {
	Metadata struct{ Name, Namespace string }
	Spec     struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		}
		Endpoints []struct{ Port, Path, Interval string }
	}
}

// labelName is a Kubernetes label key as Prometheus's service discovery
// names it in __meta_kubernetes_service_label_<name>.
var notLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// scrapeConfigs are the operator's scrape configurations for sm: one job
// per endpoint, service discovery by EndpointSlice in sm's namespace.
func scrapeConfigs(sm serviceMonitor, kubeconfig string) []map[string]any {
	var jobs []map[string]any
	for i, ep := range sm.Spec.Endpoints {
		var relabel []map[string]any
		keys := make([]string, 0, len(sm.Spec.Selector.MatchLabels))
		for k := range sm.Spec.Selector.MatchLabels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			relabel = append(relabel, map[string]any{"action": "keep",
				"source_labels": []string{"__meta_kubernetes_service_label_" + notLabelChar.ReplaceAllString(k, "_")},
				"regex":         regexp.QuoteMeta(sm.Spec.Selector.MatchLabels[k])})
		}
		relabel = append(relabel,
			map[string]any{"action": "keep", "source_labels": []string{"__meta_kubernetes_endpointslice_port_name"}, "regex": ep.Port},
			map[string]any{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_service_name"}, "target_label": "service"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_pod_container_name"}, "target_label": "container"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_service_name"}, "target_label": "job"},
			map[string]any{"target_label": "endpoint", "replacement": ep.Port},
		)
		job := map[string]any{
			"job_name": fmt.Sprintf("serviceMonitor/%s/%s/%d", sm.Metadata.Namespace, sm.Metadata.Name, i),
			"kubernetes_sd_configs": []map[string]any{{
				"role": "endpointslice", "kubeconfig_file": kubeconfig,
				"namespaces": map[string]any{"names": []string{sm.Metadata.Namespace}},
			}},
			"relabel_configs": relabel,
		}
		if ep.Path != "" {
			job["metrics_path"] = ep.Path
		}
		if ep.Interval != "" {
			job["scrape_interval"] = ep.Interval
		}
		jobs = append(jobs, job)
	}
	return jobs
}

// startPrometheus reads the ServiceMonitors and PrometheusRules of ns
// from the API server, starts Prometheus with them, and returns once it
// scrapes want targets, every one up.
func (n *Node) startPrometheus(t *testing.T, ns string, want int) *Prometheus {
	bin := os.Getenv("PROMETHEUS")
	if bin == "" {
		t.Fatal("PROMETHEUS is not set: run make test-cluster, or PROMETHEUS=$(hack/setup-prometheus.sh prometheus)")
	}
	dir := n.mkdir(t, "prometheus")
	var sms struct{ Items []serviceMonitor }
	if err := json.Unmarshal([]byte(n.kubectl(t, "get", "servicemonitors.monitoring.coreos.com", "-n", ns, "-o", "json")), &sms); err != nil {
		t.Fatal(err)
	}
	var jobs []map[string]any
	for _, sm := range sms.Items {
		jobs = append(jobs, scrapeConfigs(sm, n.Kubeconfig)...)
	}
	var prs struct {
		Items []struct {
			Metadata struct{ Name string }
			// The spec is a rule file (its groups) as it stands.
			Spec json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(n.kubectl(t, "get", "prometheusrules.monitoring.coreos.com", "-n", ns, "-o", "json")), &prs); err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{}
	var ruleFiles []string
	for _, pr := range prs.Items {
		b, err := yaml.JSONToYAML(pr.Spec)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, ns+"-"+pr.Metadata.Name+".rules.yaml")
		writeFile(t, f, b)
		ruleFiles = append(ruleFiles, f)
		var spec struct {
			Groups []struct {
				Rules []struct{ Alert string }
			}
		}
		if err := json.Unmarshal(pr.Spec, &spec); err != nil {
			t.Fatal(err)
		}
		for _, g := range spec.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					p.Rules = append(p.Rules, r.Alert)
				}
			}
		}
	}
	if len(jobs) == 0 || len(p.Rules) == 0 {
		t.Fatalf("the install has %d ServiceMonitor endpoints and %d alerts: the chart's monitoring is not on", len(jobs), len(p.Rules))
	}
	cfg, err := yaml.Marshal(map[string]any{
		"global":         map[string]any{"scrape_interval": "5s", "evaluation_interval": "5s"},
		"rule_files":     ruleFiles,
		"scrape_configs": jobs,
	})
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "prometheus.yml")
	writeFile(t, config, cfg)
	n.daemon(t, "prometheus", bin, "--config.file", config, "--storage.tsdb.path", n.mkdir(t, "prometheus", "data"),
		"--storage.tsdb.retention.time", "2h", "--web.listen-address", promAddr)
	client, err := promapi.NewClient(promapi.Config{Address: "http://" + promAddr,
		RoundTripper: &http.Transport{DialContext: nsDialer(n.NetNS), DisableKeepAlives: true}})
	if err != nil {
		t.Fatal(err)
	}
	p.API = promv1.NewAPI(client)
	start := time.Now()
	n.waitFor(t, "Prometheus scraping every authstack target", 60, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		targets, err := p.API.Targets(ctx)
		if err != nil {
			return err
		}
		var up []string
		for _, tg := range targets.Active {
			if tg.Health != promv1.HealthGood {
				return fmt.Errorf("target %s is %s: %s", tg.ScrapeURL, tg.Health, tg.LastError)
			}
			up = append(up, string(tg.Labels["pod"]))
		}
		if len(up) != want {
			return fmt.Errorf("%d targets up (%v), want %d", len(up), up, want)
		}
		return nil
	})
	t.Logf("Prometheus from %d ServiceMonitor endpoints and %d alerts: %d targets up %.1fs after its start",
		len(jobs), len(p.Rules), want, time.Since(start).Seconds())
	return p
}

// waitFired waits, at most tries seconds, until Prometheus has fired the
// alert name for namespace ns at some time since since, read from the
// ALERTS series it keeps of every alert's states: the alert may have
// resolved since (the guesses' rate leaves its window). It logs when the
// alert went pending and when it fired.
func (p *Prometheus) waitFired(t *testing.T, n *Node, name, ns string, since time.Time, tries int) {
	first := map[string]time.Time{}
	start := time.Now()
	n.waitFor(t, name+" fired", tries, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q := fmt.Sprintf(`ALERTS{alertname=%q,namespace=%q}`, name, ns)
		v, _, _, err := p.API.QueryRange(ctx, q, promv1.Range{Start: since, End: time.Now(), Step: time.Second})
		if err != nil {
			return err
		}
		m, ok := v.(model.Matrix)
		if !ok {
			return fmt.Errorf("%s: a %s, not a matrix", q, v.Type())
		}
		for _, ss := range m {
			if len(ss.Values) > 0 {
				first[string(ss.Metric["alertstate"])] = ss.Values[0].Timestamp.Time()
			}
		}
		if _, ok := first["firing"]; !ok {
			return fmt.Errorf("%s since %s: %v", q, since.Format(time.TimeOnly), first)
		}
		return nil
	})
	pending := "never (no for:)"
	if at, ok := first["pending"]; ok {
		pending = at.Format(time.TimeOnly)
	}
	t.Logf("%s: pending at %s, firing at %s (%.0fs of waiting)", name, pending, first["firing"].Format(time.TimeOnly), time.Since(start).Seconds())
}

// guesses is how many wrong passwords the guessing script tries for alice:
// the per-user-and-address limit's failures, then three times as many
// refused by it, four a second (over 5 minutes, at 0.1 refusals a second,
// twice the guessing alert's threshold).
var (
	guessFailures = int(throttle.DefaultPerUserIP.Max)
	guesses       = 4 * guessFailures
)

// guessMargin is the least time left in the limit's window for the
// guesses to start: their 10 s, and the throttle's reflection in the
// status (the token servers' flush, the manager's sync) and its reading
// by throttleState and statusAsViewer.
const guessMargin = 2 * time.Minute

// guessing is what a guessing script did.
type guessing struct {
	ip      string         // its pod's address
	start   time.Time      // its first guess
	answers map[string]int // its answers, by "<status> <error>"
}

// guess runs a script in a pod that guesses alice's password: the
// throttle answers the first failures invalid_grant and refuses the rest
// with 429 slow_down, by the limit per user and address.
func (s *stack) guess(t *testing.T) guessing {
	// The limit's windows are fixed, aligned on the clock: guesses near a
	// window's end would be counted in two windows, and the throttle
	// would end before the manager shows it. Guess early in a window.
	window := throttle.DefaultPerUserIP.Window
	if left := window - time.Duration(time.Now().UnixNano()%int64(window)); left < guessMargin {
		t.Logf("waiting %s for the next window of the per-user-and-address limit", left.Round(time.Second))
		time.Sleep(left + time.Second)
	}
	pod := loadgenPod(s.ns, "guess", "guess", "-url", s.inPod, "-n", fmt.Sprint(guesses), "-rate", "4")
	g := guessing{start: time.Now()}
	out, done := s.n.runPodFor(t, pod)
	g.ip = done.Status.PodIP
	var r struct {
		Guesses int
		Answers map[string]int
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("loadgen guess: %v: %s", err, out)
	}
	g.answers = r.Answers
	want := map[string]int{
		"400 invalid_grant": guessFailures,
		"429 slow_down":     guesses - guessFailures,
	}
	if fmt.Sprint(r.Answers) != fmt.Sprint(want) {
		t.Fatalf("%d guesses of alice's password from %s answered %v, want %v", r.Guesses, g.ip, r.Answers, want)
	}
	t.Logf("a script in pod %s guessed alice's password %d times in %.1fs: %v", g.ip, r.Guesses, time.Since(g.start).Seconds(), r.Answers)
	return g
}

// auditLine is one line of the audit trail (docs/operations.md, "Audit
// trail"), as the token servers write it on standard output.
type auditLine struct {
	Logger     string `json:"logger"`
	Msg        string `json:"msg"`
	Event      string `json:"event"`
	Outcome    string `json:"outcome"`
	Endpoint   string `json:"endpoint"`
	GrantType  string `json:"grant_type"`
	Username   string `json:"username"`
	ClientID   string `json:"client_id"`
	SourceIP   string `json:"source_ip"`
	SessionID  string `json:"session_id"`
	RetryAfter int    `json:"retry_after"`
	Suppressed int    `json:"suppressed"`
}

// auditTrail finds the guesses in the token servers' audit trail: every
// guess is a refusal of alice from the guesser's address, written or
// counted in a summary of those left out (nothing else is refused here),
// alice's successful logins are there too, and no log line holds a
// guessed password.
func (s *stack) auditTrail(t *testing.T, g guessing) {
	var got map[string]int
	var logins, written int
	s.n.waitFor(t, "the guesses in the audit trail", 30, func() error {
		logs := s.n.kubectl(t, "logs", "-n", s.ns, "-l", serverPods, "--tail=-1", "--max-log-requests=10")
		if strings.Contains(logs, "guess-") {
			t.Fatalf("a guessed password is in the token servers' logs")
		}
		got, logins, written = map[string]int{}, 0, 0
		for _, line := range strings.Split(logs, "\n") {
			var l auditLine
			if json.Unmarshal([]byte(line), &l) != nil || l.Logger != audit.MarkerValue {
				continue
			}
			switch {
			case l.Event == audit.Login && l.Username == "alice" && l.Outcome == audit.Success:
				logins++
			case l.Event == audit.Refusal && l.Suppressed > 0 && l.Endpoint == audit.EndpointToken && l.GrantType == "password":
				got[l.Outcome] += l.Suppressed
			case l.Event == audit.Refusal && l.Username == "alice" && l.SourceIP == g.ip:
				if l.Endpoint != audit.EndpointToken || l.GrantType != "password" || l.ClientID != "billing-service" {
					t.Errorf("a refusal of a guess with the wrong fields: %+v", l)
				}
				if l.Outcome == "slow_down" && l.RetryAfter <= 0 {
					t.Errorf("a throttled guess without its Retry-After: %+v", l)
				}
				got[l.Outcome]++
				written++
			}
		}
		want := map[string]int{}
		for answer, count := range g.answers {
			want[answer[strings.Index(answer, " ")+1:]] = count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("refusals of alice from %s, written and suppressed: %v, want %v", g.ip, got, want)
		}
		return nil
	})
	if logins == 0 {
		t.Errorf("no successful login of alice in the audit trail")
	}
	t.Logf("the audit trail has the %d guesses from %s (%d written, the rest counted in summaries: %v) and %d logins of alice", guesses, g.ip, written, got, logins)
}

// authUserState is the part of an AuthUser's status the manager reflects
// from the login activity.
type authUserState struct {
	Status struct {
		LastLoginTime *metav1.Time `json:"lastLoginTime"`
		Throttle      *struct {
			Until metav1.Time `json:"until"`
			Limit string      `json:"limit"`
		} `json:"throttle"`
	}
}

// waitUserState waits, within a bound, until alice's status satisfies
// cond, and returns it; a failure carries what the token servers, the
// manager and Redis knew.
func (s *stack) waitUserState(t *testing.T, what string, cond func(authUserState) error) authUserState {
	var st authUserState
	defer func() {
		if t.Failed() {
			t.Logf("what the token servers and the manager said of the throttle and the login state, and Redis's login activity:%s", s.loginStateDiagnostics(t))
		}
	}()
	s.n.waitFor(t, what, 60, func() error {
		st = authUserState{}
		if err := json.Unmarshal([]byte(s.n.kubectl(t, "get", "authuser", "alice", "-n", s.ns, "-o", "json")), &st); err != nil {
			return err
		}
		return cond(st)
	})
	return st
}

// authUsersColumn is alice's value in column name of kubectl get authusers
// -o wide, and the table.
func (s *stack) authUsersColumn(t *testing.T, name string) (string, string) {
	table := s.n.kubectl(t, "get", "authusers", "-n", s.ns, "-o", "wide")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	header := strings.Fields(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == len(header) && f[0] == "alice" {
			for i, h := range header {
				if h == name {
					return f[i], table
				}
			}
		}
	}
	t.Fatalf("no %s of alice in kubectl get authusers -o wide:\n%s", name, table)
	return "", table
}

// throttleState: while the guesser's address is refused, kubectl shows
// alice throttled (THROTTLED-UNTIL with -o wide, the Throttle in
// describe), and authstack status says it in plain words, from what the
// manager reflected of the token servers' records.
func (s *stack) throttleState(t *testing.T, g guessing) {
	st := s.waitUserState(t, "alice's throttle in her status", func(st authUserState) error {
		if st.Status.Throttle == nil {
			return fmt.Errorf("no throttle yet")
		}
		return nil
	})
	if th := st.Status.Throttle; th.Limit != string(throttle.ScopeUserIP) || !th.Until.After(g.start) || th.Until.After(g.start.Add(throttle.DefaultPerUserIP.Window+time.Minute)) {
		t.Errorf("alice's throttle %+v, want user_ip until within %s of %s", th, throttle.DefaultPerUserIP.Window, g.start)
	}
	v, table := s.authUsersColumn(t, "THROTTLED-UNTIL")
	if want := st.Status.Throttle.Until.UTC().Format(time.RFC3339); v != want {
		t.Errorf("THROTTLED-UNTIL of alice is %q, want %s", v, want)
	}
	describe := s.n.kubectl(t, "describe", "authuser", "alice", "-n", s.ns)
	if !regexp.MustCompile(`(?m)^\s+Throttle:\s*$`).MatchString(describe) || !regexp.MustCompile(`(?m)^\s+Limit:\s+user_ip$`).MatchString(describe) {
		t.Errorf("kubectl describe authuser alice shows no throttle:\n%s", describe)
	}
	out, err := s.n.command("", filepath.Join(s.n.root, "bin", "images", "authstack"), "status", "alice", "-n", s.ns)
	if err == nil || !strings.Contains(out, "user_ip") {
		t.Errorf("authstack status alice: %v, want exit 1 and the throttle named:\n%s", err, out)
	}
	t.Logf("%.0fs after the first guess, kubectl get authusers -o wide:\n%s\nauthstack status alice:\n%s", time.Since(g.start).Seconds(), table, out)
}

// lastLogin: after the load, kubectl shows alice's last login: LAST-LOGIN
// an age, status.lastLoginTime one of her logins since the install (the
// status moves by --login-state-resolution's minute at least, so it may
// be the login from the pod just before the load).
func (s *stack) lastLogin(t *testing.T, since time.Time) {
	st := s.waitUserState(t, "alice's last login in her status", func(st authUserState) error {
		switch at := st.Status.LastLoginTime; {
		case at == nil:
			return fmt.Errorf("no lastLoginTime yet")
		case at.Time.Before(since.Add(-time.Minute)):
			return fmt.Errorf("lastLoginTime %s is before the logins of %s", at, since)
		}
		return nil
	})
	v, table := s.authUsersColumn(t, "LAST-LOGIN")
	if v == "<none>" || !regexp.MustCompile(`^[0-9]+[smh]`).MatchString(v) {
		t.Errorf("LAST-LOGIN of alice is %q, want an age", v)
	}
	t.Logf("alice's lastLoginTime %s; kubectl get authusers -o wide:\n%s", st.Status.LastLoginTime.UTC().Format(time.RFC3339), table)
}

// statusAsViewer: a person holding only the built-in view role in the
// namespace (a ServiceAccount here, with its token in a kubeconfig of its
// own) runs authstack status: the chart's viewer role, aggregated into
// view by this cluster's kube-controller-manager, lets her read AuthUsers
// there, and she gets the answer the admin gets; in a namespace where she
// holds nothing she is refused.
func (s *stack) statusAsViewer(t *testing.T) {
	const sa = "ops-viewer"
	s.n.kubectl(t, "create", "serviceaccount", sa, "-n", s.ns)
	s.n.kubectl(t, "create", "rolebinding", sa, "--clusterrole=view", "--serviceaccount="+s.ns+":"+sa, "-n", s.ns)
	defer s.n.kubectl(t, "delete", "rolebinding,serviceaccount", sa, "-n", s.ns)
	who := "system:serviceaccount:" + s.ns + ":" + sa
	s.n.waitFor(t, "view aggregating the chart's viewer role", 30, func() error {
		out, _ := s.n.command("", "kubectl", "auth", "can-i", "list", "authusers.authstack.dev", "-n", s.ns, "--as", who)
		if strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("kubectl auth can-i list authusers --as %s: %q", who, out)
		}
		return nil
	})
	cfg, err := clientcmd.LoadFromFile(s.n.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range cfg.AuthInfos {
		u.Token = strings.TrimSpace(s.n.kubectl(t, "create", "token", sa, "-n", s.ns, "--duration=10m"))
	}
	kubeconfig := filepath.Join(s.n.Dir, sa+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	status := func(ns string) (string, int) {
		cmd := s.n.nsCommand(filepath.Join(s.n.root, "bin", "images", "authstack"), "status", "alice", "-n", ns)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := status(s.ns); code != 1 || !strings.Contains(out, "user_ip") {
		t.Errorf("authstack status alice as %s, who holds view in %s: exit %d, want 1 and the throttle named:\n%s", who, s.ns, code, out)
	}
	if out, code := status("default"); code != 2 || !strings.Contains(out, "you may not list AuthUsers in namespace \"default\"") {
		t.Errorf("authstack status alice -n default as %s, who holds nothing there: exit %d, want 2 and the namespace it may not read:\n%s", who, code, out)
	}
	t.Logf("%s, bound to view in %s only, reads alice's state there and is refused elsewhere", who, s.ns)
}

// livePanels: the dashboard the chart installed, read from its ConfigMap
// as Grafana's sidecar reads it (by the grafana_dashboard label), has
// every panel live over the load run: each query of each panel, expanded
// as Grafana expands it for this namespace, is accepted by Prometheus,
// and each panel draws finite points. A revocation during the run feeds
// the propagation panel.
func (s *stack) livePanels(t *testing.T, prom *Prometheus, from time.Time) {
	var cms struct {
		Items []struct{ Data map[string]string }
	}
	if err := json.Unmarshal([]byte(s.n.kubectl(t, "get", "configmaps", "-n", s.ns, "-l", "grafana_dashboard=1", "-o", "json")), &cms); err != nil {
		t.Fatal(err)
	}
	if len(cms.Items) != 1 || len(cms.Items[0].Data) != 1 {
		t.Fatalf("%d dashboard ConfigMaps labelled grafana_dashboard=1 in %s, want one with one dashboard", len(cms.Items), s.ns)
	}
	var d *dashboard.Dashboard
	for _, j := range cms.Items[0].Data {
		var err error
		if d, err = dashboard.Parse([]byte(j)); err != nil {
			t.Fatal(err)
		}
	}
	access, _ := s.mustLogin(t, "bob")
	if _, err := s.post(t, "/revoke", url.Values{"token": {access}, "token_type_hint": {"access_token"}}, http.StatusOK); err != nil {
		t.Fatal(err)
	}
	vars := dashboard.Vars{Values: map[string][]string{"namespace": {s.ns}}, ScrapeInterval: 5 * time.Second}
	var live, series int
	s.n.waitFor(t, "every panel of the dashboard live", 30, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		results, err := dashboard.Evaluate(ctx, prom.API, d, promv1.Range{Start: from, End: time.Now(), Step: 5 * time.Second}, vars)
		if err != nil {
			t.Fatalf("the dashboard's queries in Prometheus: %v", err)
		}
		var dead []string
		live, series = 0, 0
		for _, r := range results {
			drawn := false
			for _, tr := range r.Targets {
				if len(tr.Warnings) > 0 {
					t.Errorf("panel %q, query %s: warnings %v", r.Panel.Title, tr.Target.RefID, tr.Warnings)
				}
				for _, sr := range tr.Series {
					series++
					drawn = drawn || sr.Finite() > 0
				}
			}
			if !drawn {
				dead = append(dead, r.Panel.Title)
				continue
			}
			live++
		}
		if len(dead) > 0 {
			return fmt.Errorf("panels with no finite point: %v", dead)
		}
		return nil
	})
	t.Logf("the dashboard from the chart's ConfigMap: %d panels live, %d series, over %s of the load run", live, series, time.Since(from).Round(time.Second))
}

// loginStateDiagnostics is, for a failure of userState, the token servers'
// and the managers' log lines about the throttle and the login state, and
// the login-activity keys in the bundled Redis.
func (s *stack) loginStateDiagnostics(t *testing.T) string {
	var b strings.Builder
	for _, sel := range []string{serverPods, managerPods} {
		out, err := s.n.command("", "kubectl", "logs", "-n", s.ns, "-l", sel, "--tail=-1", "--prefix", "--max-log-requests=10")
		if err != nil {
			fmt.Fprintf(&b, "\n%v", err)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "hrottle") || strings.Contains(l, "login state") || strings.Contains(l, "Login state") {
				fmt.Fprintf(&b, "\n%s", l)
			}
		}
	}
	password := s.secret(t, s.prefix+"redis", "password")
	cli := func(args ...string) string {
		out, err := s.n.command("", "kubectl", append([]string{"exec", "-n", s.ns, s.prefix + "redis-0", "--", "redis-cli", "--no-auth-warning", "-a", password}, args...)...)
		if err != nil {
			return err.Error()
		}
		return out
	}
	for _, k := range strings.Fields(cli("--scan", "--pattern", "*{tl}*")) {
		fmt.Fprintf(&b, "\n%s: %s", k, strings.Join(strings.Fields(cli("ZRANGE", k, "0", "-1", "WITHSCORES")+cli("HGETALL", k)), " "))
	}
	for _, k := range strings.Fields(cli("--scan", "--pattern", "*{ll}*")) {
		fmt.Fprintf(&b, "\n%s: %s", k, strings.Join(strings.Fields(cli("ZRANGE", k, "0", "-1", "WITHSCORES")), " "))
	}
	return b.String()
}
