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

package v1alpha1

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestEffectiveUsername(t *testing.T) {
	tests := []struct {
		name string
		user *AuthUser
		want string
	}{
		{"nil", nil, ""},
		{"defaults to metadata.name", &AuthUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}}, "alice"},
		{"spec.username wins", &AuthUser{
			ObjectMeta: metav1.ObjectMeta{Name: "alice"},
			Spec:       AuthUserSpec{Username: "alice@example.com"},
		}, "alice@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.EffectiveUsername(); got != tt.want {
				t.Errorf("EffectiveUsername() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEffectiveClientID(t *testing.T) {
	tests := []struct {
		name   string
		client *AuthClient
		want   string
	}{
		{"nil", nil, ""},
		{"defaults to metadata.name", &AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "billing-service"}}, "billing-service"},
		{"spec.clientID wins", &AuthClient{
			ObjectMeta: metav1.ObjectMeta{Name: "billing-service"},
			Spec:       AuthClientSpec{ClientID: "billing"},
		}, "billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.client.EffectiveClientID(); got != tt.want {
				t.Errorf("EffectiveClientID() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyOrDefault(t *testing.T) {
	if got := (*PasswordSecretRef)(nil).KeyOrDefault(); got != "password" {
		t.Errorf("PasswordSecretRef nil: %q", got)
	}
	if got := (&PasswordSecretRef{Name: "s"}).KeyOrDefault(); got != "password" {
		t.Errorf("PasswordSecretRef empty: %q", got)
	}
	if got := (&PasswordSecretRef{Name: "s", Key: "pw"}).KeyOrDefault(); got != "pw" {
		t.Errorf("PasswordSecretRef set: %q", got)
	}
	if got := (&PasswordHashSecretRef{Name: "s"}).KeyOrDefault(); got != "passwordHash" {
		t.Errorf("PasswordHashSecretRef empty: %q", got)
	}
	if got := (&PasswordHashSecretRef{Name: "s", Key: "h"}).KeyOrDefault(); got != "h" {
		t.Errorf("PasswordHashSecretRef set: %q", got)
	}
	if got := (&ClientSecretRef{Name: "s"}).KeyOrDefault(); got != "clientSecret" {
		t.Errorf("ClientSecretRef empty: %q", got)
	}
	if got := (&ClientSecretRef{Name: "s", Key: "k"}).KeyOrDefault(); got != "k" {
		t.Errorf("ClientSecretRef set: %q", got)
	}
}

func TestAuthClientHelpers(t *testing.T) {
	c := &AuthClient{}
	if !c.IsPublic() {
		t.Error("client without secretRef should be public")
	}
	if got := c.EffectiveGrantTypes(); !slices.Equal(got, []string{"password", "refresh_token"}) {
		t.Errorf("EffectiveGrantTypes() = %v", got)
	}
	c.Spec.SecretRef = &ClientSecretRef{Name: "s"}
	c.Spec.GrantTypes = []string{GrantTypePassword}
	if c.IsPublic() {
		t.Error("client with secretRef should be confidential")
	}
	if got := c.EffectiveGrantTypes(); !slices.Equal(got, []string{"password"}) {
		t.Errorf("EffectiveGrantTypes() = %v", got)
	}
}

func TestSchemeRegistration(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"AuthUser", "AuthUserList", "AuthClient", "AuthClientList"} {
		if !s.Recognizes(GroupVersion.WithKind(kind)) {
			t.Errorf("scheme does not recognize %s", kind)
		}
	}
}

func TestDeepCopy(t *testing.T) {
	now := metav1.Now()
	u := &AuthUser{
		ObjectMeta: metav1.ObjectMeta{Name: "alice"},
		Spec: AuthUserSpec{
			PasswordSecretRef:  &PasswordSecretRef{Name: "alice-password"},
			Scopes:             []string{"read"},
			RevokeTokensBefore: &now,
		},
	}
	cp := u.DeepCopy()
	cp.Spec.PasswordSecretRef.Name = "changed"
	cp.Spec.Scopes[0] = "changed"
	if u.Spec.PasswordSecretRef.Name != "alice-password" || u.Spec.Scopes[0] != "read" {
		t.Error("DeepCopy shares memory with the original")
	}
}

// ValidName must agree with the CRD's pattern and length limits.
func TestValidNameMatchesTheCRDPattern(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9._@-]+$`)
	for _, s := range []string{"alice", "a.b_c@d-e", "", " ", "a b", "é", "a:b", "{x}", strings.Repeat("a", 253), strings.Repeat("a", 254)} {
		want := re.MatchString(s) && len(s) <= MaxNameLength
		if got := ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
}

// Usernames and client IDs are one name whatever their case: the effective
// name is the lower-case form, which the store and tokens carry.
func TestEffectiveNamesAreCanonical(t *testing.T) {
	u := &AuthUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: AuthUserSpec{Username: "Alice@Corp.Example"}}
	if got := u.EffectiveUsername(); got != "alice@corp.example" {
		t.Errorf("EffectiveUsername() = %q", got)
	}
	c := &AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: AuthClientSpec{ClientID: "Billing"}}
	if got := c.EffectiveClientID(); got != "billing" {
		t.Errorf("EffectiveClientID() = %q", got)
	}
}

func TestValidateGroup(t *testing.T) {
	for _, ok := range []string{"readers", "team-a:dev", "cn=admins;ou=x", "ünïcode", "a/b", strings.Repeat("g", MaxNameLength)} {
		if err := ValidateGroup(ok); err != nil {
			t.Errorf("ValidateGroup(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "system:masters", "System:Masters", "SYSTEM:authenticated", "a,admins", "a b", "tab\tb",
		"nl\n", "nbsp\u00a0x", "zero\u200bwidth", "ls\u2028x", "del\x7f", "\xff", strings.Repeat("g", MaxNameLength+1)} {
		if err := ValidateGroup(bad); err == nil {
			t.Errorf("ValidateGroup(%q) accepted", bad)
		}
	}
}
