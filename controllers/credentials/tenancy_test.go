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

package credentials

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
)

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"alice", "alice", true}, {"alice", "alice2", false},
		{"*", "", true}, {"*", "anything", true},
		{"*@team-a.example", "dev@team-a.example", true}, {"*@team-a.example", "dev@team-a.example.evil", false},
		{"team-a-*", "team-a-api", true}, {"team-a-*", "team-b-api", false},
		{"a*b*c", "abc", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "acb", false},
		{"a*a", "a", false}, {"a*a", "aa", true},
	} {
		if got := matchGlob(c.pattern, c.s); got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestTenancyAllows(t *testing.T) {
	policy := func(names []string, sel map[string]string, users, groups []string) v1alpha1.TenancyPolicy {
		p := v1alpha1.TenancyPolicy{Spec: v1alpha1.TenancyPolicySpec{
			Namespaces: v1alpha1.NamespaceSelection{Names: names}, Usernames: users, Groups: groups,
		}}
		if sel != nil {
			p.Spec.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: sel}
		}
		return p
	}
	teamA := policy([]string{"team-a"}, nil, []string{"*@Team-A.example"}, []string{"team-a:*"})
	byLabel := policy(nil, map[string]string{"tier": "platform"}, []string{"ops-*"}, []string{"platform"})
	everyone := policy(nil, map[string]string{}, nil, nil) // selector {}: every namespace, nothing allowed
	anything := func(n string) v1alpha1.TenancyPolicy { return policy([]string{n}, nil, []string{"*"}, []string{"*"}) }
	shared := func(n string) v1alpha1.TenancyPolicy { return policy([]string{n}, nil, nil, []string{"readers"}) }
	ns := func(name string, labels map[string]string) namespaceInfo {
		return namespaceInfo{name: name, labels: labels}
	}
	for _, c := range []struct {
		name     string
		policies []v1alpha1.TenancyPolicy
		ns       namespaceInfo
		kind     nameKind
		value    string
		want     bool
	}{
		{"no policy: open", nil, ns("any", nil), kindUsername, "alice", true},
		{"selected, allowed", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindUsername, "dev@team-a.example", true},
		{"selected, not allowed", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindUsername, "bob", false},
		{"unselected, reserved for another", []v1alpha1.TenancyPolicy{teamA}, ns("team-b", nil), kindUsername, "x@team-a.example", false},
		{"unselected, not reserved", []v1alpha1.TenancyPolicy{teamA}, ns("team-b", nil), kindUsername, "bob", true},
		{"groups: selected, allowed", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindGroup, "team-a:dev", true},
		{"groups: selected, not allowed", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindGroup, "admins", false},
		{"groups: unselected, reserved", []v1alpha1.TenancyPolicy{teamA}, ns("team-b", nil), kindGroup, "team-a:admins", false},
		// Patterns match case-insensitively: a reservation cannot be passed
		// by capitals (a consumer may compare groups without case).
		{"groups match whatever their case", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindGroup, "Team-A:dev", true},
		{"a reservation whatever the case", []v1alpha1.TenancyPolicy{teamA}, ns("team-b", nil), kindGroup, "TEAM-A:admins", false},
		// The most specific pattern decides: another tenant's "*" does not
		// reach what team-a reserves; equal patterns share.
		{"a broad allowance does not reach a reservation", []v1alpha1.TenancyPolicy{teamA, anything("team-b")},
			ns("team-b", nil), kindUsername, "boss@team-a.example", false},
		{"a broad allowance elsewhere", []v1alpha1.TenancyPolicy{teamA, anything("team-b")}, ns("team-b", nil), kindUsername, "carol", true},
		{"the reserving tenant keeps it", []v1alpha1.TenancyPolicy{teamA, anything("team-b")}, ns("team-a", nil), kindUsername, "boss@team-a.example", true},
		{"equal patterns share", []v1alpha1.TenancyPolicy{shared("team-a"), shared("team-b")}, ns("team-b", nil), kindGroup, "readers", true},
		{"a more specific allowance wins", []v1alpha1.TenancyPolicy{teamA, policy([]string{"team-b"}, nil, []string{"boss@team-a.example"}, nil)},
			ns("team-b", nil), kindUsername, "boss@team-a.example", true},
		{"client IDs: a policy without any allows none", []v1alpha1.TenancyPolicy{teamA}, ns("team-a", nil), kindClientID, "team-a-api", false},
		{"selected by label", []v1alpha1.TenancyPolicy{teamA, byLabel}, ns("infra", map[string]string{"tier": "platform"}), kindUsername, "ops-1", true},
		{"label does not match", []v1alpha1.TenancyPolicy{teamA, byLabel}, ns("infra", map[string]string{"tier": "apps"}), kindUsername, "ops-1", false},
		{"two policies select it: either allows", []v1alpha1.TenancyPolicy{teamA, policy([]string{"team-a"}, nil, []string{"svc-*"}, nil)},
			ns("team-a", nil), kindUsername, "svc-x", true},
		{"closed by default: selector {} allowing nothing", []v1alpha1.TenancyPolicy{teamA, everyone}, ns("new-team", nil), kindUsername, "bob", false},
		{"closed by default, the tenant still allowed its own", []v1alpha1.TenancyPolicy{teamA, everyone}, ns("team-a", nil), kindUsername, "dev@team-a.example", true},
	} {
		if got := tenancyAllows(c.policies, c.ns, c.kind, c.value); got != c.want {
			t.Errorf("%s: tenancyAllows = %v, want %v", c.name, got, c.want)
		}
	}
}

// The namespaces of other namespaces' ServiceAccounts follow the same
// rules (an AuthClient's own namespace is never asked about: admit skips
// it).
func TestTenancyAllowsServiceAccountNamespaces(t *testing.T) {
	policy := func(ns string, saNamespaces ...string) v1alpha1.TenancyPolicy {
		return v1alpha1.TenancyPolicy{Spec: v1alpha1.TenancyPolicySpec{
			Namespaces: v1alpha1.NamespaceSelection{Names: []string{ns}}, ServiceAccountNamespaces: saNamespaces,
		}}
	}
	teamA := policy("team-a", "team-a-*", "shared")
	teamB := policy("team-b")
	ns := func(name string) namespaceInfo { return namespaceInfo{name: name} }
	for _, c := range []struct {
		name     string
		policies []v1alpha1.TenancyPolicy
		ns       namespaceInfo
		value    string
		want     bool
	}{
		// Another namespace's ServiceAccount is never open by default: a
		// writer of one namespace would have the accounts of every other
		// (and the AuthClient's status tell whether each exists).
		{"no policy: closed", nil, ns("any"), "kube-system", false},
		{"allowed by pattern", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-a"), "team-a-jobs", true},
		{"allowed by name", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-a"), "shared", true},
		{"not listed", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-a"), "team-b", false},
		{"a policy listing none allows none", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-b"), "team-a-jobs", false},
		{"unselected: reserved for another", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-c"), "shared", false},
		{"unselected: closed too", []v1alpha1.TenancyPolicy{teamA, teamB}, ns("team-c"), "team-b", false},
		{"other kinds do not count", []v1alpha1.TenancyPolicy{{Spec: v1alpha1.TenancyPolicySpec{
			Namespaces: v1alpha1.NamespaceSelection{Names: []string{"team-a"}}, ClientIDs: []string{"*"}, Scopes: []string{"*"}}}},
			ns("team-a"), "team-b", false},
	} {
		if got := tenancyAllows(c.policies, c.ns, kindServiceAccountNamespace, c.value); got != c.want {
			t.Errorf("%s: tenancyAllows = %v, want %v", c.name, got, c.want)
		}
	}
}
