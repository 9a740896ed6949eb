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

package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
)

const multiDoc = `
apiVersion: v1
kind: Secret
metadata: {name: dave-pw, namespace: team}
data:
  password: ZGF2ZS1wYXNzd29yZA==   # "dave-password"
---
apiVersion: authstack.dev/v1alpha1
kind: AuthUser
metadata: {name: dave, namespace: team}
spec:
  username: dave@example.com
  passwordSecretRef: {name: dave-pw}
  scopes: [read]
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored}
---
apiVersion: authstack.dev/v1alpha1
kind: AuthClient
metadata: {name: web, namespace: team}
spec:
  audiences: [https://web.example]
`

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAndApplyMultiDocument(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "all.yaml", multiDoc)
	write(t, dir, "notes.txt", "not yaml at all: [")
	objs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Users) != 1 || len(objs.Clients) != 1 || len(objs.Secrets) != 1 || len(objs.Skipped) != 1 {
		t.Fatalf("loaded %d users, %d clients, %d secrets, skipped %v", len(objs.Users), len(objs.Clients), len(objs.Secrets), objs.Skipped)
	}
	st := memory.New()
	if err := Apply(context.Background(), st, objs, password.Policy{Params: authtest.FastParams}); err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUser(context.Background(), "dave@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := password.Verify(u.PasswordHash, []byte("dave-password")); !ok {
		t.Error("the record's hash does not match the Secret's password")
	}
	if u.Source != "team/dave" {
		t.Errorf("source %q", u.Source)
	}
	c, err := st.GetClient(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Public() || len(c.GrantTypes) != 2 {
		t.Errorf("client %+v: want a public client with the default grant types", c)
	}
}

func TestLoadSamples(t *testing.T) {
	objs, err := Load("../../config/samples/")
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(context.Background(), memory.New(), objs, password.Policy{Params: authtest.FastParams}); err != nil {
		t.Fatal(err)
	}
	if len(objs.Users) < 2 || len(objs.Clients) < 1 {
		t.Fatalf("samples: %d users, %d clients", len(objs.Users), len(objs.Clients))
	}
}

func TestApplyErrors(t *testing.T) {
	user := func(name, spec string) string {
		return "apiVersion: authstack.dev/v1alpha1\nkind: AuthUser\nmetadata: {name: " + name + "}\nspec: " + spec + "\n---\n"
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: pw}\nstringData: {password: x, passwordHash: not-a-hash}\n---\n"
	cases := map[string]string{
		"missing secret":            user("a", "{passwordSecretRef: {name: nope}}"),
		"missing key":               secret + user("a", "{passwordSecretRef: {name: pw, key: other}}"),
		"both refs":                 secret + user("a", "{passwordSecretRef: {name: pw}, passwordHashSecretRef: {name: pw}}"),
		"neither ref":               user("a", "{scopes: [x]}"),
		"invalid hash":              secret + user("a", "{passwordHashSecretRef: {name: pw}}"),
		"bad username":              secret + user("a", "{username: 'has space', passwordSecretRef: {name: pw}}"),
		"duplicate username":        secret + user("a", "{username: same, passwordSecretRef: {name: pw}}") + user("b", "{username: same, passwordSecretRef: {name: pw}}"),
		"duplicate in another case": secret + user("a", "{username: Same, passwordSecretRef: {name: pw}}") + user("b", "{username: sAME, passwordSecretRef: {name: pw}}"),
		"system group":              secret + user("a", "{groups: ['system:masters'], passwordSecretRef: {name: pw}}"),
		"group with a comma":        secret + user("a", "{groups: ['a,admins'], passwordSecretRef: {name: pw}}"),
		"tokens too large":          secret + user("a", "{groups: ["+strings.Repeat("'"+strings.Repeat("g", 250)+"',", 20)+"], passwordSecretRef: {name: pw}}"),
		"unknown field":             user("a", "{passwordSecretRef: {name: pw}, pasword: x}"),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "x.yaml", doc)
			objs, err := Load(dir)
			if err == nil {
				err = Apply(context.Background(), memory.New(), objs, password.Policy{Params: authtest.FastParams})
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "not-a-hash") {
				t.Errorf("error echoes the secret value: %v", err)
			}
		})
	}
}

// authstack dev registers clients with public keys, inline or from a
// Secret or ConfigMap in the files, as the manager does; a client of a
// ServiceAccount is refused, and says why.
func TestApplyClientKeys(t *testing.T) {
	k, err := signer.Generate(signer.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := signer.NewKeySet(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	jwks := string(ks.JWKS())
	client := func(name, spec string) string {
		return "apiVersion: authstack.dev/v1alpha1\nkind: AuthClient\nmetadata: {name: " + name + "}\nspec: " + spec + "\n---\n"
	}
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keys}\ndata:\n  jwks.json: |\n    " + jwks + "\n---\n" +
		"apiVersion: v1\nkind: Secret\nmetadata: {name: keys}\nstringData:\n  set: '" + jwks + "'\n---\n" +
		client("inline", "{grantTypes: [client_credentials], publicKeys: {jwks: '"+jwks+"'}}") +
		client("from-configmap", "{grantTypes: [client_credentials], publicKeys: {configMapRef: {name: keys}}}") +
		client("from-secret", "{grantTypes: [client_credentials], publicKeys: {secretRef: {name: keys, key: set}}}")
	dir := t.TempDir()
	write(t, dir, "keys.yaml", doc)
	objs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	if err := Apply(context.Background(), st, objs, password.Policy{Params: authtest.FastParams}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"inline", "from-configmap", "from-secret"} {
		rec, err := st.GetClient(context.Background(), id)
		if err != nil || rec.JWKS != jwks || rec.AuthMethod() != store.AuthMethodPrivateKeyJWT || rec.NotBefore.IsZero() {
			t.Errorf("%s: %+v, %v", id, rec, err)
		}
	}

	for name, doc := range map[string]string{
		"a ServiceAccount":  client("sa", "{grantTypes: [client_credentials], serviceAccountRef: {name: worker}}"),
		"a missing map":     client("nomap", "{publicKeys: {configMapRef: {name: nope}}}"),
		"a private key set": client("private", `{publicKeys: {jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}'}}`),
	} {
		dir := t.TempDir()
		write(t, dir, "x.yaml", doc)
		objs, err := Load(dir)
		if err == nil {
			err = Apply(context.Background(), memory.New(), objs, password.Policy{Params: authtest.FastParams})
		}
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case name == "a ServiceAccount" && !strings.Contains(err.Error(), "serviceAccountRef needs a cluster"):
			t.Errorf("%s: %v", name, err)
		case strings.Contains(err.Error(), "c2VjcmV0"):
			t.Errorf("%s: the error shows key material: %v", name, err)
		}
	}
}
