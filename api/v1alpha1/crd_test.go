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
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

const (
	crdDir     = "../../config/crd/bases"
	samplesDir = "../../config/samples"

	xorRule    = "has(self.passwordSecretRef) != has(self.passwordHashSecretRef)"
	xorMessage = "exactly one of passwordSecretRef and passwordHashSecretRef must be set"
)

func loadCRD(t *testing.T, file string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(crdDir, file))
	if err != nil {
		t.Fatalf("read CRD (run `make manifests`): %v", err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, crd); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	if crd.Spec.Group != GroupVersion.Group {
		t.Errorf("group = %q, want %q", crd.Spec.Group, GroupVersion.Group)
	}
	if crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("scope = %q, want Namespaced", crd.Spec.Scope)
	}
	return crd
}

func servedVersion(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinitionVersion {
	t.Helper()
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if v.Name == GroupVersion.Version {
			if !v.Served || !v.Storage {
				t.Errorf("%s: served=%v storage=%v, want both true", v.Name, v.Served, v.Storage)
			}
			if v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("%s: status subresource not enabled", v.Name)
			}
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				t.Fatalf("%s: no schema", v.Name)
			}
			return v
		}
	}
	t.Fatalf("version %s not found in CRD %s", GroupVersion.Version, crd.Name)
	return nil
}

type column struct{ name, typ, path string }

func checkColumns(t *testing.T, v *apiextensionsv1.CustomResourceDefinitionVersion, want []column) {
	t.Helper()
	var got []column
	for _, c := range v.AdditionalPrinterColumns {
		got = append(got, column{c.Name, c.Type, c.JSONPath})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("printer columns:\n got  %v\n want %v", got, want)
	}
}

func readyColumns(first column) []column {
	return []column{
		first,
		{"Ready", "string", `.status.conditions[?(@.type=="Ready")].status`},
		{"Reason", "string", `.status.conditions[?(@.type=="Ready")].reason`},
		{"Age", "date", ".metadata.creationTimestamp"},
	}
}

// checkScopePattern verifies the RFC 6749 scope-token pattern on spec.scopes.
func checkScopePattern(t *testing.T, spec apiextensionsv1.JSONSchemaProps) {
	t.Helper()
	scopes := spec.Properties["scopes"]
	if scopes.Items == nil || scopes.Items.Schema == nil {
		t.Fatal("spec.scopes has no items schema")
	}
	re, err := regexp.Compile(scopes.Items.Schema.Pattern)
	if err != nil {
		t.Fatalf("scope pattern %q: %v", scopes.Items.Schema.Pattern, err)
	}
	for _, ok := range []string{"read", "write", "openid", "api:read", "https://x.example/a.b~c!"} {
		if !re.MatchString(ok) {
			t.Errorf("scope %q rejected", ok)
		}
	}
	for _, bad := range []string{"", "a b", `a"b`, `a\b`, "ä", "a\tb"} {
		if re.MatchString(bad) {
			t.Errorf("scope %q accepted", bad)
		}
	}
	if got := ptrValue(scopes.XListType); got != "set" {
		t.Errorf("spec.scopes x-kubernetes-list-type = %q, want set", got)
	}
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func checkStatus(t *testing.T, root apiextensionsv1.JSONSchemaProps) {
	t.Helper()
	status := root.Properties["status"]
	conds := status.Properties["conditions"]
	if ptrValue(conds.XListType) != "map" || !slices.Equal(conds.XListMapKeys, []string{"type"}) {
		t.Errorf("status.conditions list type = %q keys %v, want map keyed by type", ptrValue(conds.XListType), conds.XListMapKeys)
	}
	if _, ok := status.Properties["observedGeneration"]; !ok {
		t.Error("status.observedGeneration missing")
	}
}

func TestAuthUserCRD(t *testing.T) {
	crd := loadCRD(t, "authstack.dev_authusers.yaml")
	if crd.Name != "authusers.authstack.dev" {
		t.Errorf("name = %q", crd.Name)
	}
	if !slices.Equal(crd.Spec.Names.ShortNames, []string{"au"}) {
		t.Errorf("shortNames = %v, want [au]", crd.Spec.Names.ShortNames)
	}
	if !slices.Contains(crd.Spec.Names.Categories, "authstack") {
		t.Errorf("categories = %v, want authstack", crd.Spec.Names.Categories)
	}
	v := servedVersion(t, crd)
	// The login state the manager reflects: Last-Login by default,
	// Throttled-Until with -o wide (a string: kubectl shows a future date
	// as <invalid>).
	users := readyColumns(column{"Username", "string", ".status.username"})
	users = slices.Insert(users, len(users)-1,
		column{"Last-Login", "date", ".status.lastLoginTime"}, column{"Throttled-Until", "string", ".status.throttle.until"})
	checkColumns(t, v, users)

	root := *v.Schema.OpenAPIV3Schema
	if !slices.Contains(root.Required, "spec") {
		t.Error("spec is not required")
	}
	spec := root.Properties["spec"]
	found := false
	for _, r := range spec.XValidations {
		if r.Rule == xorRule {
			found = true
			if r.Message != xorMessage {
				t.Errorf("XOR rule message = %q", r.Message)
			}
		}
	}
	if !found {
		t.Errorf("spec x-kubernetes-validations %v lacks the XOR rule %q", spec.XValidations, xorRule)
	}
	for ref, key := range map[string]string{"passwordSecretRef": "password", "passwordHashSecretRef": "passwordHash"} {
		p := spec.Properties[ref]
		if !slices.Equal(p.Required, []string{"name"}) {
			t.Errorf("%s.required = %v, want [name]", ref, p.Required)
		}
		if def := p.Properties["key"].Default; def == nil || string(def.Raw) != `"`+key+`"` {
			t.Errorf("%s.key default = %v, want %q", ref, def, key)
		}
	}
	if p := spec.Properties["username"].Pattern; p != `^[a-zA-Z0-9._@-]+$` {
		t.Errorf("username pattern = %q", p)
	}
	checkScopePattern(t, spec)
	checkStatus(t, root)
}

func TestAuthClientCRD(t *testing.T) {
	crd := loadCRD(t, "authstack.dev_authclients.yaml")
	if crd.Name != "authclients.authstack.dev" {
		t.Errorf("name = %q", crd.Name)
	}
	if !slices.Equal(crd.Spec.Names.ShortNames, []string{"ac"}) {
		t.Errorf("shortNames = %v, want [ac]", crd.Spec.Names.ShortNames)
	}
	v := servedVersion(t, crd)
	checkColumns(t, v, readyColumns(column{"ClientID", "string", ".status.clientID"}))

	root := *v.Schema.OpenAPIV3Schema
	spec := root.Properties["spec"]
	gt := spec.Properties["grantTypes"]
	var def []string
	if gt.Default == nil || json.Unmarshal(gt.Default.Raw, &def) != nil || !slices.Equal(def, DefaultGrantTypes()) {
		t.Errorf("grantTypes default = %v, want %v", gt.Default, DefaultGrantTypes())
	}
	var enum []string
	for _, e := range gt.Items.Schema.Enum {
		enum = append(enum, strings.Trim(string(e.Raw), `"`))
	}
	if !slices.Equal(enum, []string{GrantTypePassword, GrantTypeRefreshToken, GrantTypeClientCredentials}) {
		t.Errorf("grantTypes enum = %v", enum)
	}
	if def := spec.Properties["secretRef"].Properties["key"].Default; def == nil || string(def.Raw) != `"clientSecret"` {
		t.Errorf("secretRef.key default = %v", def)
	}
	if slices.Contains(spec.Required, "secretRef") {
		t.Error("secretRef must be optional (public clients)")
	}
	checkScopePattern(t, spec)
	checkStatus(t, root)
}

// TestSamplesDecode checks that every custom resource sample decodes strictly
// into the Go types and that the Secrets they reference are in the samples.
func TestSamplesDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	secrets := map[string]map[string]string{}
	var users []*AuthUser
	var clients []*AuthClient
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			StringData map[string]string `json:"stringData"`
		}
		if err := yaml.Unmarshal(b, &meta); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if meta.Metadata.Namespace != "" {
			t.Errorf("%s: samples must be namespace-less", f)
		}
		switch meta.Kind {
		case "Secret":
			secrets[meta.Metadata.Name] = meta.StringData
		case "AuthUser", "AuthClient":
			if meta.APIVersion != GroupVersion.String() {
				t.Errorf("%s: apiVersion %q", f, meta.APIVersion)
			}
			var obj any = &AuthUser{}
			if meta.Kind == "AuthClient" {
				obj = &AuthClient{}
			}
			if err := yaml.UnmarshalStrict(b, obj); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if u, ok := obj.(*AuthUser); ok {
				users = append(users, u)
			} else {
				clients = append(clients, obj.(*AuthClient))
			}
		default:
			t.Errorf("%s: unexpected kind %q", f, meta.Kind)
		}
	}
	if len(users) != 2 || len(clients) != 1 {
		t.Fatalf("got %d users, %d clients; want 2 and 1", len(users), len(clients))
	}
	for _, u := range users {
		var name, key string
		switch {
		case u.Spec.PasswordSecretRef != nil && u.Spec.PasswordHashSecretRef == nil:
			name, key = u.Spec.PasswordSecretRef.Name, u.Spec.PasswordSecretRef.KeyOrDefault()
		case u.Spec.PasswordHashSecretRef != nil && u.Spec.PasswordSecretRef == nil:
			name, key = u.Spec.PasswordHashSecretRef.Name, u.Spec.PasswordHashSecretRef.KeyOrDefault()
			if h := secrets[name][key]; !strings.HasPrefix(h, "$2a$10$") || len(h) != 60 {
				t.Errorf("user %s: %q is not a cost-10 bcrypt hash", u.Name, h)
			}
		default:
			t.Errorf("user %s: exactly one password ref must be set", u.Name)
			continue
		}
		if secrets[name][key] == "" {
			t.Errorf("user %s: Secret %s key %s not in samples", u.Name, name, key)
		}
	}
	for _, c := range clients {
		if c.IsPublic() {
			continue
		}
		if secrets[c.Spec.SecretRef.Name][c.Spec.SecretRef.KeyOrDefault()] == "" {
			t.Errorf("client %s: Secret %s key %s not in samples", c.Name, c.Spec.SecretRef.Name, c.Spec.SecretRef.KeyOrDefault())
		}
	}
}
