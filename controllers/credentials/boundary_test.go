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

package credentials_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/controllers/credentials"
)

// Issue 10 §2: a writer of AuthUsers and AuthClients in one namespace must
// never act on another namespace's usernames, client IDs or groups. These
// tests play that writer against a manager watching several namespaces.

// managerNamespaceIsFirst makes the stack's first namespace the manager's
// own, with a Pod name for the operator's Events.
func managerNamespaceIsFirst(s *stack, o *credentials.Options) {
	o.ManagerNamespace, o.ManagerPod, o.PublicClientID = s.nss[0], "authstack-manager-0", "default"
}

// operatorEvents returns the notes of the Events in the manager's
// namespace regarding its Pod.
func (s *stack) operatorEvents() []string {
	s.t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(s.nss[0])); err != nil {
		s.t.Fatal(err)
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Pod" && e.Regarding.Name == "authstack-manager-0" {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// An older AuthUser renamed to a username another namespace holds takes
// nothing: the holder's record, password and tokens stay; the claimant is
// told the name is held, not by whom; the operator is told by whom.
func TestRenameCannotTakeAHeldUsername(t *testing.T) {
	s := newStack(t, withNamespaces(3), withOptions(managerNamespaceIsFirst))
	attacker, victim := s.nss[1], s.nss[2]
	s.secretIn(attacker, "old-password", map[string]string{"password": "attacker-pw-123"})
	old := s.userIn(attacker, "old")
	s.ready(old, v1alpha1.ReasonSynced)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has whole seconds: "old" is older
	s.secretIn(victim, "alice-password", map[string]string{"password": alicePW})
	alice := s.userIn(victim, "alice")
	s.ready(alice, v1alpha1.ReasonSynced)
	tok := s.mustLogin("alice", alicePW)

	s.patchUserIn(attacker, "old", `{"spec":{"username":"alice"}}`)
	c := s.ready(old, v1alpha1.ReasonUsernameConflict)
	if strings.Contains(c.Message, victim) {
		t.Fatalf("the claimant learns the holder: %q", c.Message)
	}
	if rec, err := s.record("alice"); err != nil || rec.Source != victim+"/alice" {
		t.Fatalf("record after the takeover attempt: %+v, %v", rec, err)
	}
	if code := s.userinfo(tok); code != http.StatusOK {
		t.Fatalf("the holder's token after the takeover attempt: %d", code)
	}
	if code, _ := s.login("alice", "attacker-pw-123"); code != http.StatusBadRequest {
		t.Fatalf("the attacker's password logs in as alice: %d", code)
	}
	s.mustLogin("alice", alicePW)
	s.eventually("an Event naming the holder for the operator", func() (bool, string) {
		notes := s.operatorEvents()
		for _, n := range notes {
			if strings.Contains(n, attacker+"/old") && strings.Contains(n, victim+"/alice") {
				return true, ""
			}
		}
		return false, strings.Join(notes, "; ")
	})
	// A resync (the store lost its data) does not hand the name over either.
	s.redis.FlushAll()
	s.eventually("the holder's record rewritten", func() (bool, string) {
		rec, err := s.record("alice")
		return err == nil && rec.Source == victim+"/alice", rec.Source
	})
	s.ready(old, v1alpha1.ReasonUsernameConflict)
	s.mustLogin("alice", alicePW)
}

// The same for client IDs.
func TestRenameCannotTakeAHeldClientID(t *testing.T) {
	s := newStack(t, withNamespaces(3), withOptions(managerNamespaceIsFirst))
	attacker, victim := s.nss[1], s.nss[2]
	s.secretIn(attacker, "old", map[string]string{"clientSecret": billingSecret + "-attacker"})
	old := s.clientIn(attacker, "old", "old")
	s.ready(old, v1alpha1.ReasonSynced)
	time.Sleep(1100 * time.Millisecond)
	s.secretIn(victim, "billing", map[string]string{"clientSecret": billingSecret})
	billing := s.clientIn(victim, "billing", "billing")
	s.ready(billing, v1alpha1.ReasonSynced)

	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"clientID":"billing"}}`))
	if err := env.Client.Patch(context.Background(), old, patch); err != nil {
		t.Fatal(err)
	}
	c := s.ready(old, v1alpha1.ReasonClientIDConflict)
	if strings.Contains(c.Message, victim) {
		t.Fatalf("the claimant learns the holder: %q", c.Message)
	}
	rec, err := s.store.GetClient(context.Background(), "billing")
	if err != nil || rec.Source != victim+"/billing" {
		t.Fatalf("registration after the takeover attempt: %+v, %v", rec, err)
	}
}

// Usernames are one name whatever their case: the second claimant of
// "Alice@Corp.Example" conflicts with "alice@corp.example", logins in any
// case reach the holder, and tokens carry the lower-case form.
func TestUsernamesAreCaseInsensitive(t *testing.T) {
	s := newStack(t, withNamespaces(2))
	s.secretIn(s.nss[0], "a-password", map[string]string{"password": alicePW})
	s.secretIn(s.nss[1], "b-password", map[string]string{"password": "mallory-pw-123"})
	holder := s.userIn(s.nss[0], "a", func(u *v1alpha1.AuthUser) { u.Spec.Username = "alice@corp.example" })
	s.ready(holder, v1alpha1.ReasonSynced)
	claimant := s.userIn(s.nss[1], "b", func(u *v1alpha1.AuthUser) { u.Spec.Username = "Alice@Corp.Example" })
	s.ready(claimant, v1alpha1.ReasonUsernameConflict)
	if code, _ := s.login("ALICE@corp.example", "mallory-pw-123"); code != http.StatusBadRequest {
		t.Fatalf("the second claimant's password logs in: %d", code)
	}
	tok := s.mustLogin("Alice@CORP.example", alicePW)
	if sub := subject(t, tok); sub != "alice@corp.example" {
		t.Fatalf("sub = %q, want the canonical form", sub)
	}
	if holder.Status.Username != "alice@corp.example" {
		t.Fatalf("status.username = %q", holder.Status.Username)
	}
}

// The built-in public client ("default") governs every login that names
// no client; an AuthClient of that ID outside the manager's namespace is
// refused, and the logins keep the built-in definition. In the manager's
// namespace it is allowed.
func TestOnlyTheManagerNamespaceMayDefineTheDefaultClient(t *testing.T) {
	s := newStack(t, withNamespaces(2), withOptions(managerNamespaceIsFirst))
	ctx := context.Background()
	tenant := s.clientIn(s.nss[1], "default", "", func(c *v1alpha1.AuthClient) {
		c.Spec.RefreshTokenTTL = &metav1.Duration{Duration: 10 * 365 * 24 * time.Hour}
		c.Spec.Scopes = []string{"read"}
	})
	s.ready(tenant, v1alpha1.ReasonReservedClientID)
	if _, err := s.store.GetClient(ctx, "default"); err == nil {
		t.Fatal("a tenant's AuthClient wrote the default client's registration")
	}
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.ready(s.user("alice"), v1alpha1.ReasonSynced)
	s.mustLogin("alice", alicePW)

	own := s.clientIn(s.nss[0], "default", "", func(c *v1alpha1.AuthClient) { c.Spec.Scopes = []string{"read"} })
	s.ready(own, v1alpha1.ReasonSynced)
	if rec, err := s.store.GetClient(ctx, "default"); err != nil || rec.Source != s.nss[0]+"/default" {
		t.Fatalf("the manager namespace's default client: %+v, %v", rec, err)
	}
}

// The API server refuses groups Kubernetes reserves and groups a
// comma-joined header would split.
func TestGroupsAreValidated(t *testing.T) {
	s := newStack(t)
	for _, g := range []string{"system:masters", "System:Masters", "a,admins", "a b", "tab\tbed", "nbsp\u00a0x", "zero\u200bwidth", "nl\n"} {
		u := &v1alpha1.AuthUser{
			ObjectMeta: metav1.ObjectMeta{Name: "g", Namespace: s.ns},
			Spec: v1alpha1.AuthUserSpec{PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: "x"},
				Groups: []string{"ok", g}},
		}
		if err := env.Client.Create(context.Background(), u); err == nil {
			_ = env.Client.Delete(context.Background(), u)
			t.Errorf("group %q accepted by the API server", g)
		}
	}
	u := s.user("fine", func(u *v1alpha1.AuthUser) { u.Spec.Groups = []string{"team-a:dev", "readers", "ünïcode"} })
	s.ready(u, v1alpha1.ReasonSecretNotFound) // created: the groups are fine
}

// A TenancyPolicy lets the namespaces it selects use what it allows, and
// reserves it: another namespace cannot use it, and a selected namespace
// cannot use anything else. Narrowing the policy takes a name away from
// its holder, whose tokens stop working.
func TestTenancyPolicy(t *testing.T) {
	s := newStack(t, withNamespaces(2))
	ctx := context.Background()
	teamA, other := s.nss[0], s.nss[1]
	label := "tenancy-test-" + teamA
	nsA := &corev1.Namespace{}
	if err := env.Client.Get(ctx, types.NamespacedName{Name: teamA}, nsA); err != nil {
		t.Fatal(err)
	}
	nsA.Labels = map[string]string{"authstack-test-tenant": label}
	if err := env.Client.Update(ctx, nsA); err != nil {
		t.Fatal(err)
	}
	policy := &v1alpha1.TenancyPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: label},
		Spec: v1alpha1.TenancyPolicySpec{
			Namespaces: v1alpha1.NamespaceSelection{Selector: &metav1.LabelSelector{MatchLabels: nsA.Labels}},
			Usernames:  []string{"*@team-a.example"},
			ClientIDs:  []string{"team-a-*"},
			Groups:     []string{"team-a:*"},
			Audiences:  []string{"https://*.team-a.example"},
			Scopes:     []string{"read", "team-a:*"},
		},
	}
	if err := env.Client.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), policy) })
	for _, ns := range s.nss {
		s.secretIn(ns, "pw", map[string]string{"password": alicePW})
	}
	pw := func(u *v1alpha1.AuthUser) { u.Spec.PasswordSecretRef.Name = "pw" }
	named := func(n string, groups ...string) func(*v1alpha1.AuthUser) {
		return func(u *v1alpha1.AuthUser) { u.Spec.Username, u.Spec.Groups = n, groups }
	}
	dev := s.userIn(teamA, "dev", pw, named("dev@team-a.example", "team-a:dev"))
	s.ready(dev, v1alpha1.ReasonSynced)
	s.mustLogin("dev@team-a.example", alicePW)
	for _, c := range []struct {
		ns, name string
		mutate   func(*v1alpha1.AuthUser)
	}{
		{teamA, "elsewhere", named("bob@team-b.example")},             // not allowed to team-a
		{teamA, "wrong-group", named("ops@team-a.example", "admins")}, // a group it may not use
		{other, "squatter", named("boss@team-a.example")},             // reserved for team-a
		{other, "group-squatter", named("carol", "team-a:admins")},    // a reserved group
	} {
		u := s.userIn(c.ns, c.name, pw, c.mutate)
		cond := s.ready(u, v1alpha1.ReasonNotAllowed)
		if !strings.Contains(cond.Message, "tenancy policies") {
			t.Errorf("%s: %q", c.name, cond.Message)
		}
	}
	// "read" is team-a's (its policy lists it): dave may not use it, but
	// what no policy matches.
	noScopes := func(u *v1alpha1.AuthUser) { u.Spec.Scopes = []string{"dave:own"} }
	s.ready(s.userIn(other, "free", pw, named("dave", "readers"), noScopes), v1alpha1.ReasonSynced)
	s.ready(s.userIn(other, "reader", pw, named("frank")), v1alpha1.ReasonNotAllowed)
	cl := s.clientIn(other, "team-a-api", "")
	s.ready(cl, v1alpha1.ReasonNotAllowed)
	s.ready(s.clientIn(teamA, "team-a-api", ""), v1alpha1.ReasonSynced)
	// Audiences and scopes: another namespace cannot mint tokens for
	// team-a's services, nor grant team-a's scopes.
	aud := func(a ...string) func(*v1alpha1.AuthClient) {
		return func(c *v1alpha1.AuthClient) { c.Spec.Audiences = a }
	}
	s.ready(s.clientIn(other, "minter", "", aud("https://billing.team-a.example")), v1alpha1.ReasonNotAllowed)
	s.ready(s.clientIn(other, "scoper", "", func(c *v1alpha1.AuthClient) { c.Spec.Scopes = []string{"team-a:admin"} }), v1alpha1.ReasonNotAllowed)
	s.ready(s.userIn(other, "scoped", pw, named("erin"), func(u *v1alpha1.AuthUser) { u.Spec.Scopes = []string{"team-a:admin"} }),
		v1alpha1.ReasonNotAllowed)
	s.ready(s.clientIn(teamA, "team-a-billing", "", aud("https://billing.team-a.example")), v1alpha1.ReasonSynced)
	s.ready(s.clientIn(teamA, "team-a-other", "", aud("https://api.example.org")), v1alpha1.ReasonNotAllowed)

	// Narrowed: team-a may no longer use dev@team-a.example.
	tok := s.mustLogin("dev@team-a.example", alicePW)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(policy), policy); err != nil {
		t.Fatal(err)
	}
	policy.Spec.Usernames = []string{"ops@team-a.example"}
	if err := env.Client.Update(ctx, policy); err != nil {
		t.Fatal(err)
	}
	s.ready(dev, v1alpha1.ReasonNotAllowed)
	if code, _ := s.login("dev@team-a.example", alicePW); code != http.StatusBadRequest {
		t.Fatalf("a login after the policy took the name away: %d", code)
	}
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("a token after the policy took the name away: %d", code)
	}
}

// With a Secret selector, the manager treats every other Secret as
// missing: a writer of AuthUsers who may not read Secrets cannot probe
// them (their existence, their keys) through an AuthUser's status.
func TestSecretSelectorHidesOtherSecrets(t *testing.T) {
	sel, err := labels.Parse("authstack.dev/credentials=true")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, withOptions(func(_ *stack, o *credentials.Options) { o.SecretSelector = sel }))
	ctx := context.Background()
	s.secret("unlabelled", map[string]string{"password": alicePW})
	probe := s.user("probe", func(u *v1alpha1.AuthUser) { u.Spec.PasswordSecretRef.Name = "unlabelled" })
	missing := s.user("missing", func(u *v1alpha1.AuthUser) { u.Spec.PasswordSecretRef.Name = "no-such-secret" })
	got, want := s.ready(probe, v1alpha1.ReasonSecretNotFound), s.ready(missing, v1alpha1.ReasonSecretNotFound)
	if strings.ReplaceAll(got.Message, "unlabelled", "X") != strings.ReplaceAll(want.Message, "no-such-secret", "X") {
		t.Fatalf("an unlabelled Secret answers %q, a missing one %q", got.Message, want.Message)
	}
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: s.ns, Name: "unlabelled"}, sec); err != nil {
		t.Fatal(err)
	}
	sec.Labels = map[string]string{"authstack.dev/credentials": "true"}
	if err := env.Client.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	s.ready(probe, v1alpha1.ReasonSynced)
	s.mustLogin("probe", alicePW)
}

// Claimants created at once: exactly one holds the name.
func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	s := newStack(t, withNamespaces(2))
	for _, ns := range s.nss {
		s.secretIn(ns, "pw", map[string]string{"password": alicePW})
	}
	for round := range 3 {
		name := "contested-" + string(rune('a'+round))
		var users []*v1alpha1.AuthUser
		for i, ns := range s.nss {
			users = append(users, s.userIn(ns, name+"-"+string(rune('0'+i)), func(u *v1alpha1.AuthUser) {
				u.Spec.Username, u.Spec.PasswordSecretRef.Name = name, "pw"
			}))
		}
		s.eventually("one holder of "+name, func() (bool, string) {
			synced, conflicts := 0, 0
			for _, u := range users {
				if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), u); err != nil {
					return false, err.Error()
				}
				for _, c := range u.Status.Conditions {
					switch {
					case c.Type == v1alpha1.ConditionTypeReady && c.Reason == v1alpha1.ReasonSynced:
						synced++
					case c.Type == v1alpha1.ConditionTypeReady && c.Reason == v1alpha1.ReasonUsernameConflict:
						conflicts++
					}
				}
			}
			rec, _ := s.record(name)
			return synced == 1 && conflicts == len(users)-1 && rec.Source != "", rec.Source
		})
	}
}

// subject reads the sub claim of a token without checking it.
func subject(t *testing.T, tok string) string {
	t.Helper()
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		t.Fatal(err)
	}
	return c.Subject
}

// The sample TenancyPolicy is one the API server accepts.
func TestTenancyPolicySampleIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "tenancy", "authstack_v1alpha1_tenancypolicy_team_a.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p v1alpha1.TenancyPolicy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), &p, client.DryRunAll); err != nil {
		t.Fatalf("the API server refuses the sample: %v", err)
	}
	bad := p.DeepCopy()
	bad.Spec.Usernames = []string{"has space"}
	if err := env.Client.Create(context.Background(), bad, client.DryRunAll); err == nil {
		t.Fatal("a username pattern with a space was accepted")
	}
}

// Issue 10 §4: a CRD-legal user or client could make access tokens larger
// than the validators' own limit. The manager refuses such objects, and an
// object just under the budget gets tokens that authstack accepts.
func TestObjectsThatWouldMakeOversizedTokensAreRefused(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	s.secret("pw", map[string]string{"password": alicePW})
	var huge []string
	for i := range 64 {
		huge = append(huge, fmt.Sprintf("g%02d-%s", i, strings.Repeat("x", 249)))
	}
	big := s.user("big", func(u *v1alpha1.AuthUser) { u.Spec.PasswordSecretRef.Name, u.Spec.Groups = "pw", huge })
	if c := s.ready(big, v1alpha1.ReasonTokenTooLarge); !strings.Contains(c.Message, "at most") {
		t.Fatalf("message %q", c.Message)
	}
	if _, err := s.record("big"); err == nil {
		t.Fatal("a record was written for a user whose tokens would be refused")
	}
	var auds []string
	for i := range 32 {
		auds = append(auds, fmt.Sprintf("https://%02d.%s", i, strings.Repeat("a", 2030)))
	}
	s.ready(s.client("wide", "", func(c *v1alpha1.AuthClient) { c.Spec.Audiences = auds }), v1alpha1.ReasonTokenTooLarge)
	if _, err := s.store.GetClient(ctx, "wide"); err == nil {
		t.Fatal("a registration was written for a client whose tokens would be refused")
	}

	// Under the budget: the token is one /userinfo accepts.
	var groups []string
	for i := range 9 {
		groups = append(groups, fmt.Sprintf("g%d-%s", i, strings.Repeat("y", 250)))
	}
	fits := s.user("fits", func(u *v1alpha1.AuthUser) { u.Spec.PasswordSecretRef.Name, u.Spec.Groups = "pw", groups })
	s.ready(fits, v1alpha1.ReasonSynced)
	if code := s.userinfo(s.mustLogin("fits", alicePW)); code != http.StatusOK {
		t.Fatalf("the token of a user under the budget: %d", code)
	}
}
