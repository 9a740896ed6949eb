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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// kube is the API server of the status tests, started by the first.
var kube testenv.Lazy

// runStatus runs `authstack status` with the kubeconfig and args, and
// returns what it printed and its exit status.
func runStatus(t *testing.T, kubeconfig string, args ...string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot()
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"status", "--kubeconfig", kubeconfig}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), code, err
}

// expectStatus runs the command and checks its exit status and that its
// output says each of want.
func expectStatus(t *testing.T, kubeconfig string, code int, args []string, want ...string) string {
	t.Helper()
	out, got, err := runStatus(t, kubeconfig, args...)
	if got != code {
		t.Fatalf("status %v: exit %d (%v), want %d; output:\n%s", args, got, err, code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("status %v does not say %q; output:\n%s", args, w, out)
		}
	}
	return out
}

// statusUser creates an AuthUser named name in ns and gives it the status
// the manager would have written; ready is its Ready condition's status,
// reason and message (none when reason is empty).
func statusUser(t *testing.T, e *testenv.Env, ns, name string, spec func(*v1alpha1.AuthUserSpec), status func(*v1alpha1.AuthUserStatus),
	ready metav1.ConditionStatus, reason, message string) *v1alpha1.AuthUser {
	t.Helper()
	u := &v1alpha1.AuthUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.AuthUserSpec{PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: name + "-password"}},
	}
	if spec != nil {
		spec(&u.Spec)
	}
	ctx := context.Background()
	if err := e.Client.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if reason != "" {
		u.Status.Conditions = []metav1.Condition{{
			Type: v1alpha1.ConditionTypeReady, Status: ready, Reason: reason, Message: message,
			ObservedGeneration: u.Generation, LastTransitionTime: metav1.Now(),
		}}
		u.Status.ObservedGeneration = u.Generation
	}
	if status != nil {
		status(&u.Status)
	}
	if err := e.Client.Status().Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	return u
}

// held is the status of an AuthUser that holds username.
func held(username string) func(*v1alpha1.AuthUserStatus) {
	return func(st *v1alpha1.AuthUserStatus) { st.Username = username }
}

// at is now plus d, to the second, as the API server keeps it.
func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(time.Now().Add(d).Truncate(time.Second))
	return &t
}

// local is how the text output writes t.
func local(t *metav1.Time) string { return t.In(time.Local).Format("2006-01-02 15:04:05 MST") }

const synced = "user can log in"

// Each answer of `authstack status`, for AuthUsers in the states the
// manager leaves them in, and its exit status.
func TestStatusAnswers(t *testing.T) {
	e := kube.Get(t)
	ns := e.Namespace(t)
	admin := e.Kubeconfig(t, "status-admin", "system:masters")
	in := []string{"-n", ns}
	run := func(code int, username string, want ...string) string {
		t.Helper()
		return expectStatus(t, admin, code, append([]string{username}, in...), want...)
	}
	True, False := metav1.ConditionTrue, metav1.ConditionFalse

	t.Run("nothing stops her, and her last login", func(t *testing.T) {
		login := at(-time.Hour)
		statusUser(t, e, ns, "st-ok", nil, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.LastLoginTime, st.TokensNotBefore = "st-ok", login, at(-2*time.Hour)
		}, True, v1alpha1.ReasonSynced, synced)
		out := run(0, "st-ok", `Nothing stops "st-ok" from logging in: AuthUser `+ns+`/st-ok holds the username and is Ready.`,
			"Last login: "+local(login)+", 1h0m ago.")
		if strings.Contains(out, "Also:") {
			t.Errorf("nothing stops her, yet the output lists what else she may notice under Also:\n%s", out)
		}
		// Usernames are case-insensitive.
		run(0, "ST-OK", `Nothing stops "st-ok"`)
	})
	t.Run("disabled", func(t *testing.T) {
		statusUser(t, e, ns, "st-disabled", func(s *v1alpha1.AuthUserSpec) { s.Disabled = true }, held("st-disabled"),
			True, v1alpha1.ReasonSynced, `user "st-disabled" is disabled: logins and tokens are refused`)
		run(1, "st-disabled", `"st-disabled" cannot log in:`, "AuthUser "+ns+"/st-disabled is disabled (spec.disabled)")
	})
	t.Run("not Ready, and why", func(t *testing.T) {
		statusUser(t, e, ns, "st-nosecret", nil, nil, False, v1alpha1.ReasonSecretNotFound, `Secret "st-nosecret-password" not found`)
		run(1, "st-nosecret", "AuthUser "+ns+"/st-nosecret is not Ready: its password Secret does not exist",
			`SecretNotFound: Secret "st-nosecret-password" not found`, `nobody can log in as "st-nosecret"`)
		// A holder keeps its last good password.
		statusUser(t, e, ns, "st-badhash", nil, held("st-badhash"), False, v1alpha1.ReasonInvalidHash, `Secret "st-badhash-password" key "password": not a bcrypt or argon2id hash`)
		run(1, "st-badhash", "is not Ready: the hash in its Secret", "InvalidHash", "the old password may still work")
		statusUser(t, e, ns, "st-nostore", nil, held("st-nostore"), False, v1alpha1.ReasonStoreUnavailable, "credential store unavailable")
		run(1, "st-nostore", "the manager cannot reach the credential store (Redis)")
		statusUser(t, e, ns, "st-new", nil, nil, "", "", "")
		run(1, "st-new", "AuthUser "+ns+"/st-new has no Ready condition: the manager has not reconciled it")
	})
	t.Run("throttled", func(t *testing.T) {
		until := at(10*time.Minute + 30*time.Second)
		statusUser(t, e, ns, "st-guessed", nil, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.Throttle = "st-guessed", &v1alpha1.AuthUserThrottle{Until: *until, Limit: "user_ip"}
		}, True, v1alpha1.ReasonSynced, synced)
		run(1, "st-guessed", `Logins as "st-guessed" are refused until `+local(until)+", in 10m",
			"too many failed logins from one address (limit user_ip)")
		statusUser(t, e, ns, "st-hurried", nil, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.Throttle = "st-hurried", &v1alpha1.AuthUserThrottle{Until: *until, Limit: "user_rate"}
		}, True, v1alpha1.ReasonSynced, synced)
		run(1, "st-hurried", "too many attempts, from any address (limit user_rate)")
		// A throttle whose time has passed stops nothing.
		statusUser(t, e, ns, "st-waited", nil, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.Throttle = "st-waited", &v1alpha1.AuthUserThrottle{Until: *at(-time.Minute), Limit: "user_ip"}
		}, True, v1alpha1.ReasonSynced, synced)
		if out := run(0, "st-waited", "Nothing stops"); strings.Contains(out, "refused until") {
			t.Errorf("a past throttle is reported:\n%s", out)
		}
	})
	t.Run("password changed", func(t *testing.T) {
		changed := at(-2 * time.Hour)
		statusUser(t, e, ns, "st-changed", nil, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.PasswordChangedTime, st.TokensNotBefore = "st-changed", changed, changed
		}, True, v1alpha1.ReasonSynced, synced)
		run(0, "st-changed", "The password was changed at "+local(changed)+", 2h0m ago: tokens issued before it are refused, and the old password no longer works.",
			"Tokens issued before "+local(changed)+", 2h0m ago are refused (the password change)")
	})
	t.Run("tokens revoked", func(t *testing.T) {
		revoked := at(-3 * time.Hour)
		statusUser(t, e, ns, "st-revoked", func(s *v1alpha1.AuthUserSpec) { s.RevokeTokensBefore = revoked }, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.TokensNotBefore = "st-revoked", revoked
		}, True, v1alpha1.ReasonSynced, synced)
		run(0, "st-revoked", "Tokens issued before "+local(revoked)+", 3h0m ago are refused (spec.revokeTokensBefore)")
		// In the future, it refuses every token she gets.
		later := at(time.Hour + 30*time.Second)
		statusUser(t, e, ns, "st-later", func(s *v1alpha1.AuthUserSpec) { s.RevokeTokensBefore = later }, func(st *v1alpha1.AuthUserStatus) {
			st.Username, st.TokensNotBefore = "st-later", later
		}, True, v1alpha1.ReasonSynced, synced)
		run(1, "st-later", "spec.revokeTokensBefore is in the future, "+local(later)+", in 1h0m: every token issued before then is refused")
	})
	t.Run("no AuthUser holds the username", func(t *testing.T) {
		run(1, "st-nobody", `No AuthUser claims username "st-nobody" in namespace "`+ns+`"`, "--all-namespaces")
		expectStatus(t, admin, 1, []string{"st-nobody", "--all-namespaces"}, `No AuthUser claims username "st-nobody" in any namespace`)
		// An AuthUser named so that logs in as another name.
		statusUser(t, e, ns, "st-named", func(s *v1alpha1.AuthUserSpec) { s.Username = "st-other" }, held("st-other"), True, v1alpha1.ReasonSynced, synced)
		run(0, "st-other", "AuthUser "+ns+"/st-named holds the username")
		run(1, "st-named", `AuthUser `+ns+`/st-named is named "st-named", but its username is "st-other"`)
	})
	t.Run("the kubeconfig's namespace", func(t *testing.T) {
		cfg, err := clientcmd.LoadFromFile(admin)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Contexts[cfg.CurrentContext].Namespace = ns
		path := t.TempDir() + "/kubeconfig"
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			t.Fatal(err)
		}
		expectStatus(t, path, 0, []string{"st-ok"}, `Nothing stops "st-ok"`)
	})
	t.Run("the process's exit status", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			args []string
			code int
		}{
			{[]string{"st-ok"}, 0},
			{[]string{"st-disabled"}, 1},
			{[]string{"st-nobody"}, 1},
			{[]string{"st-ok", "--no-such-flag"}, 2},
		} {
			cmd := exec.Command(exe, append([]string{"status", "--kubeconfig", admin, "-n", ns}, c.args...)...)
			cmd.Env = append(os.Environ(), "AUTHSTACK_TEST_MAIN=1")
			out, err := cmd.CombinedOutput()
			got := 0
			var exit *exec.ExitError
			switch {
			case errors.As(err, &exit):
				got = exit.ExitCode()
			case err != nil:
				t.Fatalf("%v: %v", c.args, err)
			}
			if got != c.code {
				t.Errorf("%v: exit status %d, want %d; output:\n%s", c.args, got, c.code, out)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		expectStatus(t, admin, 2, []string{"st-ok", "-o", "yaml"})
		expectStatus(t, admin, 2, nil)
		expectStatus(t, admin, 2, []string{"st-ok", "--no-such-flag"})
		expectStatus(t, t.TempDir()+"/missing", 2, []string{"st-ok"})
	})
}

// Two AuthUsers claim one username: the report names both, and which
// holds it; one reader that sees only the claimant is told another holds
// it where she cannot look.
func TestStatusNameConflict(t *testing.T) {
	e := kube.Get(t)
	holderNS, claimantNS := e.Namespace(t), e.Namespace(t)
	admin := e.Kubeconfig(t, "status-admin", "system:masters")
	statusUser(t, e, holderNS, "st-carol", nil, held("st-carol"), metav1.ConditionTrue, v1alpha1.ReasonSynced, synced)
	statusUser(t, e, claimantNS, "carol", func(s *v1alpha1.AuthUserSpec) { s.Username = "ST-Carol" }, nil,
		metav1.ConditionFalse, v1alpha1.ReasonUsernameConflict, `username "st-carol" is held by another AuthUser`)
	expectStatus(t, admin, 1, []string{"st-carol", "-A"},
		"AuthUser "+claimantNS+"/carol also claims username \"st-carol\", which AuthUser "+holderNS+"/st-carol holds",
		"checked against "+holderNS+"/st-carol's password, not "+claimantNS+"/carol's (Ready: UsernameConflict)")
	expectStatus(t, admin, 1, []string{"st-carol", "-n", claimantNS},
		"AuthUser "+claimantNS+"/carol claims username \"st-carol\", which another AuthUser holds, in a namespace you did not or may not read",
		`UsernameConflict: username "st-carol" is held by another AuthUser`)
}

// A reader who may not list AuthUsers where the user is is told so, never
// that the user does not exist; where she may, the user is found and the
// namespaces she may not read are named.
func TestStatusForbiddenNamespace(t *testing.T) {
	e := kube.Get(t)
	readable, hidden := e.Namespace(t), e.Namespace(t)
	statusUser(t, e, readable, "st-seen", nil, held("st-seen"), metav1.ConditionTrue, v1alpha1.ReasonSynced, synced)
	statusUser(t, e, hidden, "st-hidden", nil, held("st-hidden"), metav1.ConditionTrue, v1alpha1.ReasonSynced, synced)
	reader := e.Kubeconfig(t, "status-reader")

	_, code, err := runStatus(t, reader, "st-hidden", "-A")
	if code != 2 || err == nil || !strings.Contains(err.Error(), "you may not list AuthUsers in all namespaces") {
		t.Fatalf("-A without any permission: exit %d, %v", code, err)
	}
	expectStatus(t, reader, 2, []string{"st-hidden", "-n", hidden},
		`Cannot tell whether "st-hidden" can log in:`, `you may not list AuthUsers in namespace "`+hidden+`"`)

	ctx := context.Background()
	readAuthUsers := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{GenerateName: "st-read-authusers-"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"authusers"}, Verbs: []string{"get", "list"}}}}
	listNamespaces := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{GenerateName: "st-list-namespaces-"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}}}
	for _, r := range []*rbacv1.ClusterRole{readAuthUsers, listNamespaces} {
		if err := e.Client.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "status-reader"}}
	if err := e.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "st-reader", Namespace: readable},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readAuthUsers.Name}, Subjects: subject}); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "st-reader-"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: listNamespaces.Name}, Subjects: subject}); err != nil {
		t.Fatal(err)
	}
	// The authorizer follows RBAC objects through a watch: wait until the
	// reader may read her namespace.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, code, _ := runStatus(t, reader, "st-seen", "-A")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader's permissions did not take effect: exit %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	expectStatus(t, reader, 0, []string{"st-seen", "-A"}, `Nothing stops "st-seen"`,
		"You may not list AuthUsers in", `"`+hidden+`"`)
	out := expectStatus(t, reader, 2, []string{"st-hidden", "-A"},
		`No AuthUser claims username "st-hidden" in namespace`, "but you may not list AuthUsers in", `"`+hidden+`"`)
	if strings.Contains(out, "refuse it as unknown") {
		t.Errorf("a user in a namespace the reader may not read is reported as unknown:\n%s", out)
	}
}

// -o json: the stable schema scripts read.
func TestStatusJSON(t *testing.T) {
	e := kube.Get(t)
	ns := e.Namespace(t)
	admin := e.Kubeconfig(t, "status-admin", "system:masters")
	login := at(-time.Minute)
	statusUser(t, e, ns, "st-json", func(s *v1alpha1.AuthUserSpec) { s.Disabled = true }, func(st *v1alpha1.AuthUserStatus) {
		st.Username, st.LastLoginTime = "st-json", login
	}, metav1.ConditionTrue, v1alpha1.ReasonSynced, synced)
	out := expectStatus(t, admin, 1, []string{"st-json", "-n", ns, "-o", "json"})
	var r struct {
		Username string `json:"username"`
		Verdict  string `json:"verdict"`
		Searched struct {
			AllNamespaces bool     `json:"allNamespaces"`
			Namespaces    []string `json:"namespaces"`
		} `json:"searched"`
		AuthUsers []struct {
			Namespace     string    `json:"namespace"`
			Name          string    `json:"name"`
			Username      string    `json:"username"`
			HoldsUsername bool      `json:"holdsUsername"`
			Disabled      bool      `json:"disabled"`
			LastLoginTime time.Time `json:"lastLoginTime"`
			Ready         struct {
				Status  string `json:"status"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
				Current bool   `json:"current"`
			} `json:"ready"`
		} `json:"authUsers"`
		Findings []struct {
			Code     string     `json:"code"`
			Blocking bool       `json:"blocking"`
			AuthUser string     `json:"authUser"`
			Time     *time.Time `json:"time"`
			Message  string     `json:"message"`
		} `json:"findings"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v in\n%s", err, out)
	}
	if r.Username != "st-json" || r.Verdict != "blocked" || r.Searched.AllNamespaces || len(r.Searched.Namespaces) != 1 || r.Searched.Namespaces[0] != ns {
		t.Fatalf("report %+v", r)
	}
	if len(r.AuthUsers) != 1 {
		t.Fatalf("authUsers %+v", r.AuthUsers)
	}
	u := r.AuthUsers[0]
	if u.Namespace != ns || u.Name != "st-json" || u.Username != "st-json" || !u.HoldsUsername || !u.Disabled || !u.LastLoginTime.Equal(login.Time) ||
		u.Ready.Status != "True" || u.Ready.Reason != v1alpha1.ReasonSynced || !u.Ready.Current {
		t.Fatalf("authUsers[0] %+v", u)
	}
	if len(r.Findings) != 2 {
		t.Fatalf("findings %+v", r.Findings)
	}
	if f := r.Findings[0]; f.Code != "Disabled" || !f.Blocking || f.AuthUser != ns+"/st-json" || f.Time != nil || !strings.Contains(f.Message, "disabled") {
		t.Errorf("findings[0] %+v", f)
	}
	if f := r.Findings[1]; f.Code != "LastLogin" || f.Blocking || f.Time == nil || !f.Time.Equal(login.Time) {
		t.Errorf("findings[1] %+v", f)
	}
}
