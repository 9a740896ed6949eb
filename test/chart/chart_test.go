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

// Package chart checks charts/authstack with the real helm (built by
// hack/setup-helm.sh, passed in $HELM): lint --strict, the rendered
// manifests' security and RBAC, the values schema, and install, upgrade and
// uninstall of every values file in charts/authstack/ci into a real
// kube-apiserver (envtest), which validates every object server-side.
package chart

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/internal/testing/testenv"
)

var (
	root      = filepath.Join("..", "..")
	chartDir  = filepath.Join(root, "charts", "authstack")
	helmBin   string
	helmHome  string
	ciValues  []string
	serverSA  = "-authstack-server"
	managerSA = "-authstack-manager"
)

func TestMain(m *testing.M) {
	helmBin = os.Getenv("HELM")
	if helmBin == "" {
		// Not a skip: the chart must be checked on every run.
		os.Stderr.WriteString("HELM is not set: run hack/setup-helm.sh and set HELM to the path it prints (make test does)\n")
		os.Exit(1)
	}
	if _, err := os.Stat(helmBin); err != nil {
		os.Stderr.WriteString("HELM: " + err.Error() + "\n")
		os.Exit(1)
	}
	var err error
	// helm's cache, config and data stay out of $HOME.
	if helmHome, err = os.MkdirTemp("", "chart-test-helm-"); err != nil {
		panic(err)
	}
	ciValues, _ = filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	code := m.Run()
	os.RemoveAll(helmHome)
	os.Exit(code)
}

// helm runs helm and returns its standard output and error.
func helm(kubeconfig string, args ...string) (string, string, error) {
	cmd := exec.Command(helmBin, args...)
	cmd.Env = append(os.Environ(), testenv.HelmEnv(helmHome)...)
	if kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+kubeconfig)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	return out.String(), stderr.String(), err
}

// requiredValues are the --set flags of the two values without a default:
// the issuer and a Redis.
var requiredValues = []string{"--set", "issuer=https://auth.example.com", "--set", "redis.url=redis://redis:6379"}

func mustHelm(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, stderr, err := helm(kubeconfig, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func TestValuesFiles(t *testing.T) {
	var names []string
	for _, f := range ciValues {
		names = append(names, filepath.Base(f))
	}
	want := []string{"bundled-redis-values.yaml", "defaults-values.yaml", "external-sentinel-values.yaml", "hpa-servicemonitor-values.yaml", "monitoring-values.yaml",
		"namespaced-values.yaml", "service-account-clients-values.yaml", "tls-cert-manager-values.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("ci values files: %v, want %v", names, want)
	}
}

func TestLintStrict(t *testing.T) {
	for _, f := range ciValues {
		t.Run(filepath.Base(f), func(t *testing.T) {
			mustHelm(t, "", "lint", "--strict", chartDir, "-f", f)
		})
	}
}

// object is one rendered manifest: its kind and name, and its YAML.
type object struct {
	Kind, Name string
	raw        []byte
}

func (o object) into(t *testing.T, v any) {
	t.Helper()
	if err := yaml.Unmarshal(o.raw, v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Name, err)
	}
}

func render(t *testing.T, args ...string) []object {
	t.Helper()
	return parseObjects(t, mustHelm(t, "", append([]string{"template", "rel", chartDir, "--namespace", "auth"}, args...)...))
}

// parseObjects splits a multi-document YAML stream into objects.
func parseObjects(t *testing.T, out string) []object {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var objs []object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue
		}
		objs = append(objs, object{Kind: meta.Kind, Name: meta.Name, raw: doc})
	}
	return objs
}

// podSpecs returns the pod template of every workload.
func podSpecs(t *testing.T, objs []object) map[string]corev1.PodSpec {
	t.Helper()
	specs := map[string]corev1.PodSpec{}
	for _, o := range objs {
		switch o.Kind {
		case "Deployment":
			var d appsv1.Deployment
			o.into(t, &d)
			specs[o.Kind+"/"+o.Name] = d.Spec.Template.Spec
		case "StatefulSet":
			var s appsv1.StatefulSet
			o.into(t, &s)
			specs[o.Kind+"/"+o.Name] = s.Spec.Template.Spec
		case "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet":
			t.Errorf("unexpected workload kind %s %s: add it to the checks", o.Kind, o.Name)
		}
	}
	return specs
}

func TestRenderedManifests(t *testing.T) {
	wantRules := roleYAMLRules(t)
	for _, f := range ciValues {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs := render(t, "-f", f)
			specs := podSpecs(t, objs)
			if _, ok := specs["Deployment/rel-authstack-server"]; !ok {
				t.Fatalf("no token server Deployment in %v", specs)
			}
			if _, ok := specs["Deployment/rel-authstack-manager"]; !ok {
				t.Fatalf("no manager Deployment")
			}
			for name, spec := range specs {
				checkRestricted(t, name, spec)
			}
			// The binary takes the args the chart passes.
			for _, name := range []string{"Deployment/rel-authstack-server", "Deployment/rel-authstack-manager"} {
				parseArgs(t, name, specs[name].Containers[0].Args)
			}

			// The token server has no API token unless it reviews
			// ServiceAccount tokens.
			saClients := readValues(t, f).Server.ServiceAccountClients.Enabled
			server := specs["Deployment/rel-authstack-server"]
			if server.ServiceAccountName != "rel"+serverSA || server.AutomountServiceAccountToken == nil || *server.AutomountServiceAccountToken != saClients {
				t.Errorf("token server: service account %q, automount %v; want its own, with a token only with serviceAccountClients (%v)",
					server.ServiceAccountName, server.AutomountServiceAccountToken, saClients)
			}
			if got := slices.Contains(server.Containers[0].Args, "--service-account-clients"); got != saClients {
				t.Errorf("token server args %v: --service-account-clients %v, want %v", server.Containers[0].Args, got, saClients)
			}
			// The audit trail goes where server.auditLog says, stdout by default.
			auditLog := cmp.Or(readValues(t, f).Server.AuditLog, "stdout")
			if !slices.Contains(server.Containers[0].Args, "--audit-log="+auditLog) {
				t.Errorf("token server args %v: no --audit-log=%s", server.Containers[0].Args, auditLog)
			}
			if !hasEnv(server.Containers[0], "GODEBUG", "madvdontneed=0") {
				t.Errorf("token server: no GODEBUG=madvdontneed=0")
			}
			manager := specs["Deployment/rel-authstack-manager"]
			if !slices.Contains(manager.Containers[0].Args, "--leader-elect") {
				t.Errorf("manager args %v: no --leader-elect", manager.Containers[0].Args)
			}

			// manager.namespaces: the rules on namespaced resources become
			// Roles in those namespaces; the ClusterRole keeps the rest.
			namespaces := readValues(t, f).Manager.Namespaces
			clusterRules, watchedRules := wantRules["ClusterRole"], []rbacv1.PolicyRule(nil)
			if len(namespaces) > 0 {
				clusterRules, watchedRules = splitRules(wantRules["ClusterRole"])
				if !slices.Contains(manager.Containers[0].Args, "--namespace="+strings.Join(namespaces, ",")) {
					t.Errorf("manager args %v: no --namespace for %v", manager.Containers[0].Args, namespaces)
				}
			}
			watchedRoles := map[string]bool{}
			managedRole, reviewRole, reviewBinding := false, false, false
			for _, o := range objs {
				switch o.Kind {
				case "ServiceAccount":
					var sa corev1.ServiceAccount
					o.into(t, &sa)
					if sa.Name == "rel"+serverSA && (sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken != saClients) {
						t.Errorf("token server ServiceAccount: automount %v, want %v", sa.AutomountServiceAccountToken, saClients)
					}
				case "RoleBinding", "ClusterRoleBinding":
					var b rbacv1.RoleBinding // the same shape as a ClusterRoleBinding
					o.into(t, &b)
					if o.Kind == "ClusterRoleBinding" && o.Name == reviewerRole {
						// The token server's one binding, to its one role.
						reviewBinding = true
						if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != reviewerRole ||
							!reflect.DeepEqual(b.Subjects, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "rel" + serverSA, Namespace: "auth"}}) {
							t.Errorf("ClusterRoleBinding %s: %+v to %+v; want the token server's ServiceAccount to %s", o.Name, b.Subjects, b.RoleRef, reviewerRole)
						}
						continue
					}
					for _, s := range b.Subjects {
						if s.Kind != "ServiceAccount" || s.Name != "rel"+managerSA {
							t.Errorf("%s %s binds %s %s: only the manager holds RBAC", o.Kind, o.Name, s.Kind, s.Name)
						}
					}
				case "ClusterRole":
					var r rbacv1.ClusterRole
					o.into(t, &r)
					if slices.ContainsFunc(userRoles, func(u userRole) bool { return u.name == r.Name }) {
						continue // the people's roles: TestUserRoles
					}
					if r.Name == reviewerRole {
						reviewRole = true
						if !reflect.DeepEqual(r.Rules, reviewerRules) {
							t.Errorf("ClusterRole %s rules %+v; want exactly %+v", r.Name, r.Rules, reviewerRules)
						}
						continue
					}
					if !reflect.DeepEqual(r.Rules, clusterRules) {
						t.Errorf("ClusterRole %s rules differ from config/rbac/role.yaml:\n got %+v\nwant %+v", r.Name, r.Rules, clusterRules)
					}
					if len(namespaces) > 0 && grants(r.Rules, "secrets") {
						t.Errorf("with manager.namespaces, the ClusterRole grants Secrets")
					}
				case "Role":
					var r rbacv1.Role
					o.into(t, &r)
					switch r.Name {
					case "rel-authstack-manager": // the signing-keys Secret
						managedRole = true
						if !reflect.DeepEqual(r.Rules, wantRules["Role"]) {
							t.Errorf("Role %s rules differ from config/rbac/role.yaml:\n got %+v\nwant %+v", r.Name, r.Rules, wantRules["Role"])
						}
					case "rel-authstack-manager-watched":
						watchedRoles[r.Namespace] = true
						if !reflect.DeepEqual(r.Rules, watchedRules) {
							t.Errorf("Role %s/%s rules differ from config/rbac/role.yaml's namespaced rules:\n got %+v\nwant %+v", r.Namespace, r.Name, r.Rules, watchedRules)
						}
					case "rel-authstack-manager-events":
						if len(r.Rules) != 1 || !reflect.DeepEqual(r.Rules[0].Resources, []string{"events"}) {
							t.Errorf("Role %s grants %v beyond Events", r.Name, r.Rules)
						}
					case "rel-authstack-leader-election":
						for _, rule := range r.Rules {
							if !reflect.DeepEqual(rule.APIGroups, []string{"coordination.k8s.io"}) || !reflect.DeepEqual(rule.Resources, []string{"leases"}) {
								t.Errorf("Role %s grants %v beyond leader election", r.Name, rule)
							}
						}
					default:
						t.Errorf("unexpected Role %s", r.Name)
					}
				}
			}
			for _, ns := range namespaces {
				if !watchedRoles[ns] {
					t.Errorf("no manager Role in namespace %s", ns)
				}
			}
			if len(watchedRoles) != len(namespaces) {
				t.Errorf("manager Roles in %v, want %v", watchedRoles, namespaces)
			}
			if reviewRole != saClients || reviewBinding != saClients {
				t.Errorf("serviceAccountClients %v, but the token server's ClusterRole rendered: %v, its binding: %v", saClients, reviewRole, reviewBinding)
			}
			// The manager writes the signing keys unless told not to.
			managed := !slices.Contains(manager.Containers[0].Args, "--signing-keys-secret=")
			if managed != managedRole {
				t.Errorf("signing keys managed: %v, but the manager's Role rendered: %v", managed, managedRole)
			}
			if managed && (!slices.Contains(manager.Containers[0].Args, "--signing-keys-secret=authstack-signing-keys") || !hasFieldEnv(manager.Containers[0], "POD_NAMESPACE", "metadata.namespace")) {
				t.Errorf("manager: args %v, env %v: want the Secret name and POD_NAMESPACE", manager.Containers[0].Args, manager.Containers[0].Env)
			}
		})
	}
}

// reviewerRole names the token server's ClusterRole and its binding with
// server.serviceAccountClients, and reviewerRules are its rules: TokenReviews,
// created, nothing more.
const reviewerRole = "rel-authstack-server-tokenreviews"

var reviewerRules = []rbacv1.PolicyRule{{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}}}

// values are the parts of a values file the checks depend on.
type values struct {
	Manager struct {
		Namespaces []string `json:"namespaces"`
	} `json:"manager"`
	Server struct {
		ServiceAccountClients struct {
			Enabled bool `json:"enabled"`
		} `json:"serviceAccountClients"`
		AuditLog string `json:"auditLog"`
	} `json:"server"`
}

// readValues reads a values file.
func readValues(t *testing.T, valuesFile string) values {
	t.Helper()
	data, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	var v values
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// clusterScoped are the resources the manager reads cluster-wide even
// when it serves some namespaces only.
var clusterScoped = []string{"namespaces", "tenancypolicies"}

// splitRules splits rules as the chart does for manager.namespaces: the
// parts on cluster-scoped resources, and the rest.
func splitRules(rules []rbacv1.PolicyRule) (cluster, namespaced []rbacv1.PolicyRule) {
	for _, r := range rules {
		c, n := r, r
		c.Resources, n.Resources = nil, nil
		for _, res := range r.Resources {
			if slices.Contains(clusterScoped, res) {
				c.Resources = append(c.Resources, res)
			} else {
				n.Resources = append(n.Resources, res)
			}
		}
		if len(c.Resources) > 0 {
			cluster = append(cluster, c)
		}
		if len(n.Resources) > 0 {
			namespaced = append(namespaced, n)
		}
	}
	return cluster, namespaced
}

func grants(rules []rbacv1.PolicyRule, resource string) bool {
	return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, resource) })
}

func hasFieldEnv(c corev1.Container, name, path string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == path {
			return true
		}
	}
	return false
}

// roleYAMLRules returns the rules of each kind (ClusterRole, Role) in
// config/rbac/role.yaml, which controller-gen generates from the markers.
func roleYAMLRules(t *testing.T) map[string][]rbacv1.PolicyRule {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string][]rbacv1.PolicyRule{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var role rbacv1.ClusterRole // the same shape as a Role
		if err := yaml.Unmarshal(doc, &role); err != nil {
			t.Fatal(err)
		}
		if role.Kind != "" {
			rules[role.Kind] = role.Rules
		}
	}
	if len(rules["ClusterRole"]) == 0 {
		t.Fatal("config/rbac/role.yaml has no ClusterRole rules")
	}
	return rules
}

func hasEnv(c corev1.Container, name, value string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

// checkRestricted checks the restricted Pod Security profile, and more: a
// read-only root filesystem and UID 65532 everywhere.
func checkRestricted(t *testing.T, name string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", name, psc)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Errorf("%s: uses host namespaces", name)
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			t.Errorf("%s: hostPath volume %s", name, v.Name)
		}
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		where := name + " container " + c.Name
		switch {
		case sc == nil:
			t.Errorf("%s: no securityContext", where)
			continue
		case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
			t.Errorf("%s: runAsNonRoot not set", where)
		case sc.RunAsUser == nil || *sc.RunAsUser != 65532:
			t.Errorf("%s: runAsUser %v, want 65532", where, sc.RunAsUser)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s: root filesystem writable", where)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s: privilege escalation allowed", where)
		case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s: capabilities %+v, want drop ALL and nothing added", where, sc.Capabilities)
		case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("%s: seccomp %+v", where, sc.SeccompProfile)
		case sc.Privileged != nil && *sc.Privileged:
			t.Errorf("%s: privileged", where)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v: want cpu and memory requests and a memory limit", where, c.Resources)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s: missing probes", where)
		}
	}
}

func TestSchemaRejectsBadValues(t *testing.T) {
	base := requiredValues
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing issuer", []string{"--set", "redis.url=redis://redis:6379"}, "missing property 'issuer'"},
		{"issuer with a path", []string{"--set", "issuer=https://a.example/x", "--set", "redis.url=redis://r:6379"}, "/issuer"},
		{"replicas two", append(slices.Clone(base), "--set-string", "server.replicas=two"), "/server/replicas"},
		{"unknown key", append(slices.Clone(base), "--set", "server.replica=2"), "additional properties 'replica' not allowed"},
		{"log level", append(slices.Clone(base), "--set", "manager.logLevel=loud"), "/manager/logLevel"},
		// A file would need a volume the chart does not mount (the root
		// filesystem is read-only).
		{"audit log to a file", append(slices.Clone(base), "--set", "server.auditLog=/var/log/audit.log"), "/server/auditLog"},
		// The login state's periods are durations, the writes a rate.
		{"sync period without a unit", append(slices.Clone(base), "--set", "manager.loginState.syncPeriod=30"), "/manager/loginState/syncPeriod"},
		{"negative sync period", append(slices.Clone(base), "--set", "manager.loginState.syncPeriod=-1s"), "/manager/loginState/syncPeriod"},
		{"zero resolution", append(slices.Clone(base), "--set", "manager.loginState.resolution=0s"), "/manager/loginState/resolution"},
		{"no writes", append(slices.Clone(base), "--set", "manager.loginState.writesPerSecond=0"), "/manager/loginState/writesPerSecond"},
		{"writes not a number", append(slices.Clone(base), "--set", "manager.loginState.writesPerSecond=fast"), "/manager/loginState/writesPerSecond"},
		{"unknown login-state key", append(slices.Clone(base), "--set", "manager.loginState.period=1m"), "additional properties 'period' not allowed"},
		{"zero flush period", append(slices.Clone(base), "--set", "server.throttleStateFlushPeriod=0s"), "/server/throttleStateFlushPeriod"},
		{"flush period in seconds", append(slices.Clone(base), "--set", "server.throttleStateFlushPeriod=5"), "/server/throttleStateFlushPeriod"},
		{"viewer aggregation not a boolean", append(slices.Clone(base), "--set-string", "rbac.aggregateViewer=yes"), "/rbac/aggregateViewer"},
		{"editor aggregation not a boolean", append(slices.Clone(base), "--set-string", "rbac.aggregateEditor=true"), "/rbac/aggregateEditor"},
		{"redis scheme", []string{"--set", "issuer=https://a.example", "--set", "redis.url=http://redis"}, "/redis/url"},
		{"no redis", []string{"--set", "issuer=https://a.example"}, "set redis.url, redis.existingSecret or redis.bundled.enabled=true"},
		// Behind an ingress every client would share its address, and so one
		// throttle budget: one sprayer would lock every user out.
		{"ingress without trusted proxies", append(slices.Clone(base), "--set", "ingress.enabled=true"),
			"ingress.enabled=true needs server.trustedProxies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := helm("", append([]string{"template", "rel", chartDir}, tc.args...)...)
			if err == nil {
				t.Fatalf("rendered:\n%s", out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("error %q does not mention %q", stderr, tc.want)
			}
		})
	}
}

// The dashboard's ConfigMap is rendered only when asked for, with the
// label Grafana's sidecar watches, and holds config/monitoring's JSON
// byte for byte (make chart-sync copies it; make verify fails on drift).
func TestGrafanaDashboard(t *testing.T) {
	base := requiredValues
	for _, o := range render(t, base...) {
		if o.Kind == "ConfigMap" && strings.HasSuffix(o.Name, "-dashboard") {
			t.Fatalf("the dashboard is rendered by default: %s", o.Name)
		}
	}
	want, err := os.ReadFile(filepath.Join(root, "config", "monitoring", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, o := range render(t, append(base, "--set", "grafanaDashboard.enabled=true", "--set", "grafanaDashboard.namespace=monitoring")...) {
		if o.Kind != "ConfigMap" || o.Name != "rel-authstack-dashboard" {
			continue
		}
		found = true
		var cm corev1.ConfigMap
		o.into(t, &cm)
		if cm.Labels["grafana_dashboard"] != "1" || cm.Namespace != "monitoring" {
			t.Errorf("labels %v, namespace %q", cm.Labels, cm.Namespace)
		}
		if got := cm.Data["authstack.json"]; got != strings.TrimSuffix(string(want), "\n") {
			t.Errorf("the ConfigMap's dashboard differs from config/monitoring/grafana-dashboard.json (%d bytes, want %d)", len(got), len(want))
		}
	}
	if !found {
		t.Fatal("grafanaDashboard.enabled=true rendered no dashboard ConfigMap")
	}
}

// serviceMonitorCRD is the least of the Prometheus Operator's CRD that lets
// the API server accept a ServiceMonitor.
func serviceMonitorCRD() *apiextensionsv1.CustomResourceDefinition {
	return openCRD("monitoring.coreos.com", "ServiceMonitor", "servicemonitors")
}

// prometheusRuleCRD is the same for the PrometheusRule of the alerts.
func prometheusRuleCRD() *apiextensionsv1.CustomResourceDefinition {
	return openCRD("monitoring.coreos.com", "PrometheusRule", "prometheusrules")
}

// openCRD is a namespaced CRD of group and kind, version v1, that accepts
// any object: the least that lets the API server take a resource the
// chart renders for another project's operator.
func openCRD(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Singular: strings.ToLower(kind), Kind: kind, ListKind: kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve,
				}},
			}},
		},
	}
}

func TestInstallUpgradeUninstall(t *testing.T) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: testenv.Assets(),
		CRDs:                  []*apiextensionsv1.CustomResourceDefinition{serviceMonitorCRD(), prometheusRuleCRD(), certificateCRD()},
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig := testenv.UserKubeconfig(t, &env.ControlPlane, "chart-admin", "system:masters")
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for _, f := range ciValues {
		name := strings.TrimSuffix(filepath.Base(f), "-values.yaml")
		t.Run(name, func(t *testing.T) {
			ns := name
			tenants := readValues(t, f).Manager.Namespaces
			for _, tenant := range tenants {
				if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			mustHelm(t, kubeconfig, "install", "rel-"+name, chartDir, "-n", ns, "--create-namespace", "-f", f)
			if len(tenants) > 0 {
				// What the manager's ServiceAccount may do, as the API server
				// decides: Secrets in the served namespaces only.
				checkCanI(t, kubeconfig, "system:serviceaccount:"+ns+":rel-"+name+managerSA, tenants)
			}
			checkServerCanI(t, kubeconfig, "system:serviceaccount:"+ns+":rel-"+name+serverSA, ns, readValues(t, f).Server.ServiceAccountClients.Enabled)
			if out := mustHelm(t, kubeconfig, "status", "rel-"+name, "-n", ns); !strings.Contains(out, "STATUS: deployed") {
				t.Fatalf("status after install:\n%s", out)
			}
			// The CRDs came from the chart's crds/ directory.
			if _, err := client.Discovery().ServerResourcesForGroupVersion("authstack.dev/v1alpha1"); err != nil {
				t.Fatalf("authstack.dev/v1alpha1 not served: %v", err)
			}
			deploy, err := client.AppsV1().Deployments(ns).Get(ctx, "rel-"+name+"-authstack-server", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := deploy.Spec.Template.Spec.Containers[0]; c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
				t.Errorf("stored Deployment lost its securityContext: %+v", c.SecurityContext)
			}

			var password []byte
			redisSecret := "rel-" + name + "-authstack-redis"
			if name == "bundled-redis" {
				s, err := client.CoreV1().Secrets(ns).Get(ctx, redisSecret, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				password = s.Data["password"]
				if len(password) < 32 {
					t.Fatalf("generated Redis password of %d bytes", len(password))
				}
			}

			mustHelm(t, kubeconfig, "upgrade", "rel-"+name, chartDir, "-n", ns, "-f", f, "--set", "server.logLevel=debug")
			if out := mustHelm(t, kubeconfig, "status", "rel-"+name, "-n", ns); !strings.Contains(out, "REVISION: 2") {
				t.Fatalf("status after upgrade:\n%s", out)
			}
			if password != nil {
				s, err := client.CoreV1().Secrets(ns).Get(ctx, redisSecret, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s.Data["password"], password) {
					t.Errorf("the upgrade changed the bundled Redis password")
				}
			}

			mustHelm(t, kubeconfig, "uninstall", "rel-"+name, "-n", ns)
			if _, err := client.AppsV1().Deployments(ns).Get(ctx, "rel-"+name+"-authstack-server", metav1.GetOptions{}); err == nil {
				t.Errorf("token server Deployment left after uninstall")
			}
			for _, role := range []string{"rel-" + name + "-authstack-manager", "rel-" + name + "-authstack-server-tokenreviews",
				"rel-" + name + "-authstack-viewer", "rel-" + name + "-authstack-editor"} {
				if _, err := client.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{}); err == nil {
					t.Errorf("ClusterRole %s left after uninstall", role)
				}
			}
		})
	}
	// The same stack without Helm: kubectl apply -k config/default, checked
	// by the API server (server-side dry run) and for the same security
	// contexts.
	t.Run("kustomize config/default", func(t *testing.T) {
		kubectlBin := "kubectl"
		if _, err := exec.LookPath(kubectlBin); err != nil {
			kubectlBin = filepath.Join(testenv.Assets(), "kubectl") // built by hack/setup-envtest.sh
		}
		kubectl := func(args ...string) string {
			t.Helper()
			cmd := exec.Command(kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
			cmd.Dir = filepath.Join("..", "..")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		objs := parseObjects(t, kubectl("kustomize", "config/default"))
		specs := podSpecs(t, objs)
		if len(specs) != 2 {
			t.Fatalf("config/default has %d workloads, want the manager and the server", len(specs))
		}
		for name, spec := range specs {
			checkRestricted(t, name, spec)
		}
		var server appsv1.Deployment
		for _, o := range objs {
			if o.Kind == "Deployment" && o.Name == "authstack-server" {
				o.into(t, &server)
			}
		}
		if server.Spec.Template.Spec.AutomountServiceAccountToken == nil || *server.Spec.Template.Spec.AutomountServiceAccountToken {
			t.Error("the token server mounts a ServiceAccount token")
		}
		kubectl("create", "namespace", "authstack-system")
		out := kubectl("apply", "-k", "config/default", "--dry-run=server")
		for _, want := range []string{"deployment.apps/authstack-manager", "deployment.apps/authstack-server", "role.rbac.authorization.k8s.io/authstack-manager",
			"networkpolicy.networking.k8s.io/authstack-server", "poddisruptionbudget.policy/authstack-server",
			"clusterrole.rbac.authorization.k8s.io/authstack-authuser-viewer", "clusterrole.rbac.authorization.k8s.io/authstack-authuser-editor",
			"clusterrole.rbac.authorization.k8s.io/authstack-authclient-viewer", "clusterrole.rbac.authorization.k8s.io/authstack-authclient-editor"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl apply -k config/default --dry-run=server did not apply %s:\n%s", want, out)
			}
		}

		// config/namespaced: the manager serves team-a only, through a
		// RoleBinding there; its cluster-wide rules are the generated
		// ClusterRole's cluster-scoped part, nothing more.
		objs = parseObjects(t, kubectl("kustomize", "config/namespaced"))
		cluster, _ := splitRules(roleYAMLRules(t)["ClusterRole"])
		for _, o := range objs {
			switch {
			case o.Kind == "ClusterRole" && o.Name == "authstack-manager-cluster-reads":
				var r rbacv1.ClusterRole
				o.into(t, &r)
				if !reflect.DeepEqual(r.Rules, cluster) {
					t.Errorf("config/namespaced/cluster_reads.yaml drifted from config/rbac/role.yaml:\n got %+v\nwant %+v", r.Rules, cluster)
				}
			case o.Kind == "ClusterRoleBinding":
				var b rbacv1.ClusterRoleBinding
				o.into(t, &b)
				if b.RoleRef.Name != "authstack-manager-cluster-reads" {
					t.Errorf("config/namespaced binds %s cluster-wide", b.RoleRef.Name)
				}
			case o.Kind == "Deployment" && o.Name == "authstack-manager":
				var d appsv1.Deployment
				o.into(t, &d)
				if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--namespace=team-a") {
					t.Errorf("config/namespaced manager args %v", d.Spec.Template.Spec.Containers[0].Args)
				}
			}
		}
		// team-a exists already when the namespaced values file was installed.
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		kubectl("apply", "-k", "config/namespaced")
		checkCanI(t, kubeconfig, "system:serviceaccount:authstack-system:authstack-manager", []string{"team-a"})

		// config/components/service-account-clients, in an overlay of
		// config/default: the flag, an API token in the server's pods,
		// create on tokenreviews and nothing more, as the chart's value.
		const serverUser = "system:serviceaccount:authstack-system:authstack-server"
		checkServerCanI(t, kubeconfig, serverUser, "authstack-system", false)
		overlay := t.TempDir()
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		// kustomize takes relative paths only.
		base, err1 := filepath.Rel(overlay, filepath.Join(root, "config", "default"))
		component, err2 := filepath.Rel(overlay, filepath.Join(root, "config", "components", "service-account-clients"))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(fmt.Sprintf(
			"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- %s\ncomponents:\n- %s\n",
			base, component)), 0o600); err != nil {
			t.Fatal(err)
		}
		rendered := kubectl("kustomize", "--load-restrictor", "LoadRestrictionsNone", overlay)
		// What the component adds and changes, applied over what is there.
		var added []string
		for _, o := range parseObjects(t, rendered) {
			if o.Name == "authstack-server" && o.Kind == "Deployment" || o.Name == "authstack-server-tokenreviews" {
				added = append(added, string(o.raw))
			}
			switch {
			case o.Kind == "Deployment" && o.Name == "authstack-server":
				var d appsv1.Deployment
				o.into(t, &d)
				ps := d.Spec.Template.Spec
				if ps.AutomountServiceAccountToken == nil || !*ps.AutomountServiceAccountToken ||
					!slices.Contains(ps.Containers[0].Args, "--service-account-clients") {
					t.Errorf("the component's server: automount %v, args %v", ps.AutomountServiceAccountToken, ps.Containers[0].Args)
				}
				checkRestricted(t, d.Name, ps)
			case o.Kind == "ClusterRole" && o.Name == "authstack-server-tokenreviews":
				var r rbacv1.ClusterRole
				o.into(t, &r)
				want := []rbacv1.PolicyRule{{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}}}
				if !reflect.DeepEqual(r.Rules, want) {
					t.Errorf("the component's ClusterRole: %+v", r.Rules)
				}
			}
		}
		manifest := filepath.Join(overlay, "rendered.yaml")
		if len(added) != 3 {
			t.Fatalf("the component rendered %d of its 3 objects", len(added))
		}
		if err := os.WriteFile(manifest, []byte(strings.Join(added, "\n---\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		kubectl("apply", "-f", manifest)
		checkServerCanI(t, kubeconfig, serverUser, "authstack-system", true)
	})
}

// checkCanI asks the API server (kubectl auth can-i) what user may do:
// read Secrets, AuthUsers and AuthClients in the tenants' namespaces and
// nowhere else; read namespaces and TenancyPolicies cluster-wide.
func checkCanI(t *testing.T, kubeconfig, user string, tenants []string) {
	t.Helper()
	canI := func(args ...string) bool {
		cmd := exec.Command(kubectlPath(), append([]string{"--kubeconfig", kubeconfig, "auth", "can-i", "--as", user}, args...)...)
		out, _ := cmd.Output() // "yes" or "no"; warnings go to stderr
		return strings.TrimSpace(string(out)) == "yes"
	}
	for _, tenant := range tenants {
		for _, what := range []string{"secrets", "authusers.authstack.dev", "authclients.authstack.dev"} {
			if !canI("list", what, "-n", tenant) {
				t.Errorf("the manager cannot list %s in %s", what, tenant)
			}
		}
	}
	for _, other := range []string{"default", "kube-system"} {
		for _, what := range []string{"secrets", "authusers.authstack.dev"} {
			if canI("get", what, "-n", other) {
				t.Errorf("the manager may get %s in %s, which it does not serve", what, other)
			}
		}
	}
	if canI("list", "secrets", "--all-namespaces") {
		t.Error("the manager may list Secrets cluster-wide")
	}
	for _, what := range []string{"namespaces", "tenancypolicies.authstack.dev"} {
		if !canI("list", what) {
			t.Errorf("the manager cannot list %s", what)
		}
	}
}

// checkServerCanI asks the API server what the token server's
// ServiceAccount user may do: create TokenReviews with reviews on, and
// nothing else either way.
func checkServerCanI(t *testing.T, kubeconfig, user, ns string, reviews bool) {
	t.Helper()
	canI := func(args ...string) bool {
		cmd := exec.Command(kubectlPath(), append([]string{"--kubeconfig", kubeconfig, "auth", "can-i", "--as", user}, args...)...)
		out, _ := cmd.Output() // "yes" or "no"; warnings go to stderr
		return strings.TrimSpace(string(out)) == "yes"
	}
	if got := canI("create", "tokenreviews.authentication.k8s.io"); got != reviews {
		t.Errorf("the token server may create tokenreviews: %v, want %v", got, reviews)
	}
	for _, what := range [][]string{
		{"get", "secrets", "-n", ns}, {"list", "serviceaccounts", "-n", ns}, {"get", "pods", "-n", ns},
		{"create", "serviceaccounts/token", "-n", ns}, {"create", "subjectaccessreviews.authorization.k8s.io"},
		{"get", "tokenreviews.authentication.k8s.io"}, {"list", "authclients.authstack.dev", "--all-namespaces"},
	} {
		if canI(what...) {
			t.Errorf("the token server may %v", what)
		}
	}
}

func kubectlPath() string {
	if _, err := exec.LookPath("kubectl"); err == nil {
		return "kubectl"
	}
	return filepath.Join(testenv.Assets(), "kubectl") // built by hack/setup-envtest.sh
}

// The RBAC the manager gets (config/rbac, which the chart renders) grants
// exactly what the table in docs/operations.md lists, verb by verb.
func TestRBACMatchesTheDocs(t *testing.T) {
	granted := map[string]bool{}
	add := func(rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted[res+" "+v] = true
				}
			}
		}
	}
	for _, rules := range roleYAMLRules(t) {
		add(rules)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "leader_election_role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var le rbacv1.Role
	if err := yaml.Unmarshal(data, &le); err != nil {
		t.Fatal(err)
	}
	add(le.Rules)

	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	inTable := false
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| Resource | Verbs |") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cols := strings.Split(line, "|")
		// Resources are the backticked words before any "(group)".
		resCol := cols[1]
		if i := strings.Index(resCol, "("); i >= 0 {
			resCol = resCol[:i]
		}
		for _, part := range strings.Split(resCol, "`") {
			res := strings.TrimSpace(strings.Trim(part, ", "))
			if res == "" || strings.ContainsAny(res, " ") {
				continue
			}
			for _, v := range strings.Split(cols[2], ",") {
				listed[res+" "+strings.TrimSpace(v)] = true
			}
		}
	}
	for _, want := range []string{"authusers patch", "authclients/status patch", "secrets create", "leases delete", "events create"} {
		if !listed[want] {
			t.Fatalf("the RBAC table in docs/operations.md was not read (no %q)", want)
		}
	}
	for g := range granted {
		if !listed[g] {
			t.Errorf("RBAC grants %q, which docs/operations.md does not list", g)
		}
	}
	for l := range listed {
		if !granted[l] {
			t.Errorf("docs/operations.md lists %q, which RBAC does not grant", l)
		}
	}
}
