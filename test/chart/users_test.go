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

package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/cmd"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// The built-in ClusterRoles' aggregation labels.
const (
	aggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
	aggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
)

type userRole struct {
	name, files string
	verbs       []string
}

// userRoles are the chart's ClusterRoles for people (release rel): the
// config/rbac files whose rules each holds and the verbs it may grant on
// the objects.
var (
	viewerRole = userRole{"rel-authstack-viewer", "*_viewer_role.yaml", []string{"get", "list", "watch"}}
	editorRole = userRole{"rel-authstack-editor", "*_editor_role.yaml", []string{"get", "list", "watch", "create", "update", "patch", "delete"}}
	userRoles  = []userRole{viewerRole, editorRole}
)

// configRBAC reads the ClusterRoles of config/rbac's files matching glob
// (kubebuilder's <kind>_viewer_role.yaml, <kind>_editor_role.yaml).
func configRBAC(t *testing.T, glob string) []rbacv1.ClusterRole {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config", "rbac", glob))
	if err != nil || len(files) != 2 {
		t.Fatalf("config/rbac/%s: %v, %v; want one file for AuthUsers and one for AuthClients", glob, files, err)
	}
	var roles []rbacv1.ClusterRole
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r rbacv1.ClusterRole
		if err := yaml.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		roles = append(roles, r)
	}
	return roles
}

// checkUserRules checks the rules of a role for people: authstack.dev's
// AuthUsers and AuthClients with verbs, their status with get, nothing else
// (no Secrets, no status writes), and every one of verbs on each of kinds.
func checkUserRules(t *testing.T, name string, rules []rbacv1.PolicyRule, verbs []string, kinds ...string) {
	t.Helper()
	granted := map[string]bool{}
	for _, r := range rules {
		if !reflect.DeepEqual(r.APIGroups, []string{v1alpha1.GroupVersion.Group}) || len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("%s: rule %+v: want authstack.dev's resources, by kind", name, r)
		}
		for _, res := range r.Resources {
			allowed := verbs
			switch res {
			case "authusers", "authclients":
			case "authusers/status", "authclients/status":
				allowed = []string{"get"} // the status is the manager's to write
			default:
				t.Errorf("%s grants %s: want AuthUsers and AuthClients only (never Secrets)", name, res)
			}
			for _, v := range r.Verbs {
				if !slices.Contains(allowed, v) {
					t.Errorf("%s grants %s on %s: want only %v", name, v, res, allowed)
				}
				granted[res+" "+v] = true
			}
		}
	}
	for _, res := range kinds {
		for _, v := range verbs {
			if !granted[res+" "+v] {
				t.Errorf("%s does not grant %s on %s", name, v, res)
			}
		}
	}
}

// The ClusterRoles for the people who read and write AuthUsers: config/rbac's
// (kustomize) and the chart's, with the same rules, granting no Secrets, no
// status writes and no verbs beyond reading (the viewer) and writing (the
// editor). The viewer is aggregated into the built-in view, edit and admin
// roles unless rbac.aggregateViewer is false; the editor into nothing unless
// rbac.aggregateEditor is true, and then into edit and admin: whoever may
// create AuthUsers mints logins. config/rbac's viewers carry the viewer's
// labels, its editors none.
func TestUserRoles(t *testing.T) {
	intoAll, intoEdit := []string{aggregateToView, aggregateToEdit, aggregateToAdmin}, []string{aggregateToEdit, aggregateToAdmin}
	kustomize := map[string][]string{viewerRole.name: intoAll, editorRole.name: nil}
	rules := map[string][]rbacv1.PolicyRule{}
	for _, want := range userRoles {
		for _, c := range configRBAC(t, want.files) {
			// One file per kind: authstack-authuser-viewer, ...
			kind := strings.Split(c.Name, "-")[1] + "s"
			checkUserRules(t, "config/rbac's "+c.Name, c.Rules, want.verbs, kind)
			if got := aggregationLabels(c.Labels); !slices.Equal(got, kustomize[want.name]) {
				t.Errorf("config/rbac's %s aggregates into %v, want %v", c.Name, got, kustomize[want.name])
			}
			rules[want.name] = append(rules[want.name], c.Rules...)
		}
	}

	for _, tc := range []struct {
		set  []string
		want map[string][]string // role: its aggregation labels
	}{
		{nil, map[string][]string{viewerRole.name: intoAll, editorRole.name: nil}},
		{[]string{"rbac.aggregateEditor=true"}, map[string][]string{viewerRole.name: intoAll, editorRole.name: intoEdit}},
		{[]string{"rbac.aggregateViewer=false"}, map[string][]string{viewerRole.name: nil, editorRole.name: nil}},
		{[]string{"rbac.aggregateViewer=false", "rbac.aggregateEditor=true"}, map[string][]string{viewerRole.name: nil, editorRole.name: intoEdit}},
	} {
		name := strings.Join(tc.set, ",")
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			args := slices.Clone(requiredValues)
			for _, v := range tc.set {
				args = append(args, "--set", v)
			}
			rendered := map[string]rbacv1.ClusterRole{}
			for _, o := range render(t, args...) {
				if o.Kind == "ClusterRole" {
					var r rbacv1.ClusterRole
					o.into(t, &r)
					rendered[r.Name] = r
				}
			}
			for _, want := range userRoles {
				r, ok := rendered[want.name]
				if !ok {
					t.Fatalf("no ClusterRole %s in %v", want.name, slices.Collect(maps.Keys(rendered)))
				}
				if !reflect.DeepEqual(r.Rules, rules[want.name]) {
					t.Errorf("%s's rules differ from config/rbac/%s's (make chart-sync):\n got %+v\nwant %+v", r.Name, want.files, r.Rules, rules[want.name])
				}
				checkUserRules(t, r.Name, r.Rules, want.verbs, "authusers", "authclients")
				if got := aggregationLabels(r.Labels); !slices.Equal(got, tc.want[want.name]) {
					t.Errorf("%s aggregates into %v, want %v", r.Name, got, tc.want[want.name])
				}
				if r.AggregationRule != nil {
					t.Errorf("%s aggregates other roles", r.Name)
				}
			}
		})
	}
}

// aggregationLabels are the built-in roles' aggregation labels set "true"
// in labels, in the order of view, edit, admin.
func aggregationLabels(l map[string]string) []string {
	var got []string
	for _, k := range []string{aggregateToView, aggregateToEdit, aggregateToAdmin} {
		if l[k] == "true" {
			got = append(got, k)
		}
	}
	return got
}

// A person granted the chart's viewer role in a namespace, and nothing
// else, gets an answer from `authstack status alice -n NS` there (and is
// told she may not read in any other namespace); without it she is told
// she may not list AuthUsers. The editor may write AuthUsers and AuthClients
// but, like the viewer, never their status or Secrets (the API server's
// SubjectAccessReviews). The built-in view, edit and admin roles'
// aggregation rules select the viewer by default and the editor only once
// an upgrade sets rbac.aggregateEditor.
//
// The built-in view ClusterRole would grant the viewer's rules only once
// kube-controller-manager's clusterrole-aggregation controller copied them
// in, and envtest runs kube-apiserver and etcd alone: so the viewer role
// is bound directly here, and its aggregation labels are TestUserRoles's.
func TestStatusWithTheViewerRole(t *testing.T) {
	env := &envtest.Environment{BinaryAssetsDirectory: testenv.Assets()}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin := testenv.UserKubeconfig(t, &env.ControlPlane, "chart-admin", "system:masters")
	mustHelm(t, admin, "install", "rel", chartDir, "-n", "auth", "--create-namespace", "-f", filepath.Join(chartDir, "ci", "defaults-values.yaml"))

	// After the install: the client maps the chart's CRDs.
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	team, other := "team-a", "team-b"
	for _, ns := range []string{team, other} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		// alice, as the manager leaves her: Ready, holding her username.
		u := &v1alpha1.AuthUser{
			ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns},
			Spec:       v1alpha1.AuthUserSpec{PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: "alice-password"}},
		}
		if err := c.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.Status = v1alpha1.AuthUserStatus{Username: "alice", ObservedGeneration: u.Generation, Conditions: []metav1.Condition{{
			Type: v1alpha1.ConditionTypeReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSynced, Message: "user can log in",
			ObservedGeneration: u.Generation, LastTransitionTime: metav1.Now(),
		}}}
		if err := c.Status().Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	// The built-in roles' aggregation rules, as kube-apiserver bootstraps
	// them, select the chart's roles: by default the viewer into view, edit
	// and admin and the editor into none; with rbac.aggregateEditor the
	// editor into edit and admin too.
	viewer, editor := viewerRole.name, editorRole.name
	checkAggregated(t, c, "defaults", map[string][]string{"view": {viewer}, "edit": {viewer}, "admin": {viewer}})
	mustHelm(t, admin, "upgrade", "rel", chartDir, "-n", "auth", "-f", filepath.Join(chartDir, "ci", "defaults-values.yaml"), "--set", "rbac.aggregateEditor=true")
	checkAggregated(t, c, "rbac.aggregateEditor=true", map[string][]string{"view": {viewer}, "edit": {editor, viewer}, "admin": {editor, viewer}})

	reader := testenv.UserKubeconfig(t, &env.ControlPlane, "reader")
	if r := status(t, reader, "alice", "-n", team); r.Verdict != "unknown" || !slices.Equal(r.Searched.Forbidden, []string{team}) {
		t.Fatalf("status without a role: %+v; want unknown, %s forbidden", r, team)
	}
	bind(t, c, team, "reader", "rel-authstack-viewer")
	// The authorizer follows RBAC objects through a watch: wait until the
	// binding takes effect.
	var r statusReport
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r = status(t, reader, "alice", "-n", team); r.Verdict != "unknown" || time.Now().After(deadline) {
			break
		}
	}
	if r.Verdict != "ok" || len(r.Searched.Forbidden) > 0 || len(r.AuthUsers) != 1 || r.AuthUsers[0].Namespace != team || !r.AuthUsers[0].HoldsUsername {
		t.Fatalf("status with the viewer role in %s: %+v; want alice found, nothing stopping her", team, r)
	}
	// The role is granted in team-a only.
	if r := status(t, reader, "alice", "-n", other); r.Verdict != "unknown" || !slices.Equal(r.Searched.Forbidden, []string{other}) {
		t.Errorf("status in %s, where the viewer role is not bound: %+v; want %s forbidden", other, r, other)
	}
	checkAccess(t, clientset, "reader", team, map[string]bool{
		"get authusers": true, "list authusers": true, "watch authusers": true, "get authusers/status": true,
		"get authclients": true, "list authclients": true, "watch authclients": true, "get authclients/status": true,
		"create authusers": false, "update authusers": false, "patch authusers": false, "delete authusers": false,
		"create authclients": false, "delete authclients": false,
		"update authusers/status": false, "patch authusers/status": false,
		"get secrets": false, "list secrets": false, "list tenancypolicies": false,
	})

	// The editor's, as the API server judges them (no kubeconfig needed).
	bind(t, c, team, "writer", "rel-authstack-editor")
	for deadline := time.Now().Add(30 * time.Second); !allowed(t, clientset, "writer", team, "create authusers") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	checkAccess(t, clientset, "writer", team, map[string]bool{
		"get authusers": true, "list authusers": true, "watch authusers": true, "get authusers/status": true,
		"create authusers": true, "update authusers": true, "patch authusers": true, "delete authusers": true,
		"create authclients": true, "update authclients": true, "patch authclients": true, "delete authclients": true,
		"deletecollection authusers": false, "update authusers/status": false, "patch authusers/status": false, "update authclients/status": false, "patch authclients/status": false,
		"get secrets": false, "list secrets": false, "create secrets": false, "list tenancypolicies": false,
	})
	if allowed(t, clientset, "writer", other, "create authusers") {
		t.Errorf("the editor role bound in %s grants create on AuthUsers in %s", team, other)
	}
}

// statusReport is what the checks read of `authstack status -o json`.
type statusReport struct {
	Verdict  string `json:"verdict"`
	Searched struct {
		Forbidden []string `json:"forbidden"`
	} `json:"searched"`
	AuthUsers []struct {
		Namespace     string `json:"namespace"`
		HoldsUsername bool   `json:"holdsUsername"`
	} `json:"authUsers"`
}

// status runs `authstack status ... -o json` in process with kubeconfig.
func status(t *testing.T, kubeconfig string, args ...string) statusReport {
	t.Helper()
	var out bytes.Buffer
	root := cmd.NewRoot()
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"status", "--kubeconfig", kubeconfig, "-o", "json"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx) // its exit status is the verdict
	var r statusReport
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("status %v: %v, output %q: %v", args, err, out.String(), jerr)
	}
	return r
}

// bind grants user the ClusterRole role in ns, by a RoleBinding.
func bind(t *testing.T, c client.Client, ns, user, role string) {
	t.Helper()
	if err := c.Create(context.Background(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}); err != nil {
		t.Fatal(err)
	}
}

// allowed asks the API server whether user may do what ("VERB
// RESOURCE[/SUBRESOURCE]", in authstack.dev unless a core resource) in ns.
func allowed(t *testing.T, clientset kubernetes.Interface, user, ns, what string) bool {
	t.Helper()
	verb, resource, _ := strings.Cut(what, " ")
	resource, sub, _ := strings.Cut(resource, "/")
	group := v1alpha1.GroupVersion.Group
	if resource == "secrets" {
		group = ""
	}
	if resource == "tenancypolicies" {
		ns = "" // cluster-scoped
	}
	sar, err := clientset.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// checkAccess checks each of want ("VERB RESOURCE": allowed) for user in ns.
func checkAccess(t *testing.T, clientset kubernetes.Interface, user, ns string, want map[string]bool) {
	t.Helper()
	for _, what := range slices.Sorted(maps.Keys(want)) {
		if got := allowed(t, clientset, user, ns, what); got != want[what] {
			t.Errorf("%s may %s in %s: %v, want %v", user, what, ns, got, want[what])
		}
	}
}

// checkAggregated checks which of the chart's roles the built-in roles'
// aggregation rules select (want: built-in role: the chart's, sorted).
func checkAggregated(t *testing.T, c client.Client, values string, want map[string][]string) {
	t.Helper()
	for _, role := range slices.Sorted(maps.Keys(want)) {
		if got := aggregatedInto(t, c, role); !slices.Equal(got, want[role]) {
			t.Errorf("%s: the built-in %s ClusterRole aggregates %v of the chart's roles, want %v", values, role, got, want[role])
		}
	}
}

// aggregatedInto returns the chart's roles (release rel) that the built-in
// ClusterRole role's aggregation rule selects: those whose rules
// kube-controller-manager copies into it.
func aggregatedInto(t *testing.T, c client.Client, role string) []string {
	t.Helper()
	ctx := context.Background()
	var builtin rbacv1.ClusterRole
	if err := c.Get(ctx, client.ObjectKey{Name: role}, &builtin); err != nil {
		t.Fatal(err)
	}
	if builtin.AggregationRule == nil {
		t.Fatalf("the built-in %s ClusterRole has no aggregation rule", role)
	}
	var all rbacv1.ClusterRoleList
	if err := c.List(ctx, &all, client.MatchingLabels{"app.kubernetes.io/instance": "rel"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range all.Items {
		for _, sel := range builtin.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				t.Fatal(err)
			}
			if s.Matches(labels.Set(r.Labels)) {
				got = append(got, r.Name)
				break
			}
		}
	}
	slices.Sort(got)
	return got
}
