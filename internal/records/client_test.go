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

package records

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
)

// publicJWKS is a JWK Set of n new public keys of alg.
func publicJWKS(t *testing.T, alg string, n int) string {
	t.Helper()
	var keys []*signer.Key
	for range n {
		k, err := signer.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	ks, err := signer.NewKeySet(nil, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return string(ks.JWKS())
}

// A confidential client's record carries the fingerprint of its secret
// whoever derives it (the manager, or authstack dev), and copies of the
// spec's lists, nil when empty, as a user's record does.
func TestClientRecord(t *testing.T) {
	c := &v1alpha1.AuthClient{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "billing"},
		Spec: v1alpha1.AuthClientSpec{
			Scopes:    []string{"read"},
			Audiences: []string{},
			SecretRef: &v1alpha1.ClientSecretRef{Name: "billing-secret"},
		},
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "billing-secret", ResourceVersion: "42"},
		Data:       map[string][]byte{c.Spec.SecretRef.KeyOrDefault(): []byte("0123456789abcdef0123456789abcdef")},
	}
	cred, err := ReadClientSecret(c, secret)
	if err != nil {
		t.Fatal(err)
	}
	rec := Client(c, cred, store.Client{}, time.Now())
	if want := Fingerprint("clientSecret", "billing-secret", c.Spec.SecretRef.KeyOrDefault(), "42"); rec.SecretVersion != want {
		t.Errorf("SecretVersion %q, want %q", rec.SecretVersion, want)
	}
	if rec.SecretHash != store.HashClientSecret("0123456789abcdef0123456789abcdef") || rec.AuthMethod() != store.AuthMethodSecret {
		t.Errorf("record %+v", rec)
	}
	if rec.Audiences != nil {
		t.Errorf("empty audiences kept as %#v", rec.Audiences)
	}
	rec.Scopes[0] = "changed"
	if c.Spec.Scopes[0] != "read" {
		t.Error("the record shares the spec's scopes")
	}
	secret.Data[c.Spec.SecretRef.KeyOrDefault()] = []byte("short")
	if _, err := ReadClientSecret(c, secret); !errors.Is(err, ErrWeakClientSecret) {
		t.Errorf("short secret: %v", err)
	}
	delete(secret.Data, c.Spec.SecretRef.KeyOrDefault())
	if _, err := ReadClientSecret(c, secret); !errors.Is(err, ErrSecretKeyMissing) {
		t.Errorf("missing key: %v", err)
	}
}

// The key set is read inline, from a Secret or from a ConfigMap, stored as
// compact JSON (a reformatted set is the same registration), and its
// SecretVersion names where it came from.
func TestClientKeys(t *testing.T) {
	jwks := publicJWKS(t, signer.AlgES256, 1)
	indented := strings.ReplaceAll(strings.ReplaceAll(jwks, ",", ",\n  "), "{", "{\n  ")
	client := func(pk v1alpha1.ClientPublicKeys) *v1alpha1.AuthClient {
		return &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cli"},
			Spec: v1alpha1.AuthClientSpec{PublicKeys: &pk}}
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "keys", ResourceVersion: "7"},
		Data: map[string][]byte{"jwks.json": []byte(indented)}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "keys", ResourceVersion: "9"},
		Data: map[string]string{"set": indented}}
	for _, c := range []struct {
		name    string
		client  *v1alpha1.AuthClient
		version string
	}{
		{"inline", client(v1alpha1.ClientPublicKeys{JWKS: indented}), "jwks:inline"},
		{"secret", client(v1alpha1.ClientPublicKeys{SecretRef: &v1alpha1.PublicKeysRef{Name: "keys"}}), "jwksSecret:keys/jwks.json@7"},
		{"configmap", client(v1alpha1.ClientPublicKeys{ConfigMapRef: &v1alpha1.PublicKeysRef{Name: "keys", Key: "set"}}), "jwksConfigMap:keys/set@9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cred, err := ReadClientKeys(c.client, sec, cm)
			if err != nil {
				t.Fatal(err)
			}
			rec := Client(c.client, cred, store.Client{}, time.Now())
			if rec.JWKS != jwks || rec.SecretVersion != c.version || rec.AuthMethod() != store.AuthMethodPrivateKeyJWT {
				t.Fatalf("JWKS %q version %q method %s, want %q %q", rec.JWKS, rec.SecretVersion, rec.AuthMethod(), jwks, c.version)
			}
		})
	}
	missing := client(v1alpha1.ClientPublicKeys{ConfigMapRef: &v1alpha1.PublicKeysRef{Name: "keys"}})
	if _, err := ReadClientKeys(missing, sec, cm); !errors.Is(err, ErrConfigMapKeyMissing) {
		t.Errorf("ConfigMap without the key: %v", err)
	}
}

// Only a JSON Web Key Set with a public signature key is a client's key
// set; private key material refuses the whole set.
func TestClientJWKS(t *testing.T) {
	ec, rsa, ed := publicJWKS(t, signer.AlgES256, 1), publicJWKS(t, signer.AlgRS256, 2), publicJWKS(t, signer.AlgEdDSA, 1)
	ecKey := strings.TrimSuffix(strings.TrimPrefix(ec, `{"keys":[`), `]}`)
	withMember := func(m string) string { return `{"keys":[` + strings.TrimSuffix(ecKey, "}") + `,"` + m + `":"AAAA"}]}` }
	for _, c := range []struct {
		name, text string
		ok         bool
	}{
		{"EC", ec, true}, {"RSA", rsa, true}, {"OKP", ed, true},
		{"a kid that is not the thumbprint", strings.Replace(ec, `"kid":"`, `"kid":"mine-`, 1), true},
		{"an unknown key beside a usable one", `{"keys":[{"kty":"oct-ish"},` + ecKey + `]}`, true},
		{"not JSON", "keys: []", false},
		{"an array", "[" + ecKey + "]", false},
		{"trailing data", ec + "{}", false},
		{"no keys member", `{}`, false},
		{"no keys", `{"keys":[]}`, false},
		// Skipped, as the token server skips it, beside a usable key.
		{"a key that is not an object", `{"keys":[` + ecKey + `,"x"]}`, true},
		{"an encryption key only", strings.Replace(ec, `"use":"sig"`, `"use":"enc"`, 1), false},
		{"a key without its members", `{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA"}]}`, false},
		{"a symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, false},
		{"an EC private key", withMember("d"), false},
		{"an RSA private member", withMember("qi"), false},
		{"too large", `{"keys":[` + ecKey + `],"pad":"` + strings.Repeat("x", v1alpha1.MaxJWKSBytes) + `"}`, false},
		{"too many keys", `{"keys":[` + strings.Repeat(ecKey+",", signer.MaxJWKSKeys) + ecKey + `]}`, false},
	} {
		got, err := ClientJWKS(c.text)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case !c.ok && !errors.Is(err, ErrInvalidPublicKeys):
			t.Errorf("%s: %q, %v; want ErrInvalidPublicKeys", c.name, got, err)
		case !c.ok && strings.Contains(err.Error(), "AAAA"):
			t.Errorf("%s: the error shows key material: %v", c.name, err)
		}
	}
}

// A ServiceAccount client's registration names the account and the UID of
// the one that exists: none while it is missing, none when the spec pins
// another, so that no token matches.
func TestServiceAccountCredential(t *testing.T) {
	client := func(ns, pin string) *v1alpha1.AuthClient {
		return &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cli"},
			Spec: v1alpha1.AuthClientSpec{ServiceAccountRef: &v1alpha1.ServiceAccountRef{Namespace: ns, Name: "worker", UID: pin}}}
	}
	for _, c := range []struct {
		name    string
		client  *v1alpha1.AuthClient
		uid     string
		want    store.ServiceAccount
		version string
	}{
		{"own namespace", client("", ""), "u1", store.ServiceAccount{Namespace: "team", Name: "worker", UID: "u1"}, "serviceAccount:team/worker@u1"},
		{"another namespace", client("shared", ""), "u1", store.ServiceAccount{Namespace: "shared", Name: "worker", UID: "u1"}, "serviceAccount:shared/worker@u1"},
		{"none exists", client("", ""), "", store.ServiceAccount{Namespace: "team", Name: "worker"}, "serviceAccount:team/worker@"},
		{"the pinned one", client("", "u1"), "u1", store.ServiceAccount{Namespace: "team", Name: "worker", UID: "u1"}, "serviceAccount:team/worker@u1"},
		{"another than the pinned one", client("", "u1"), "u2", store.ServiceAccount{Namespace: "team", Name: "worker"}, "serviceAccount:team/worker@u2"},
	} {
		rec := Client(c.client, ServiceAccountCredential(c.client, c.uid), store.Client{}, time.Now())
		if rec.ServiceAccount == nil || *rec.ServiceAccount != c.want || rec.SecretVersion != c.version ||
			rec.AuthMethod() != store.AuthMethodServiceAccount {
			t.Errorf("%s: %+v %q, want %+v %q", c.name, rec.ServiceAccount, rec.SecretVersion, c.want, c.version)
		}
	}
}

// A client's not-before only moves forward: a new registration starts now,
// a change of credential moves it, anything else keeps it.
func TestClientNotBefore(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	earlier, later := now.Add(-time.Hour), now.Add(time.Hour)
	jwks := publicJWKS(t, signer.AlgES256, 1)
	sa := func(uid string) *store.ServiceAccount {
		return &store.ServiceAccount{Namespace: "ns", Name: "worker", UID: uid}
	}
	client := func(scopes ...string) *v1alpha1.AuthClient {
		return &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cli"}, Spec: v1alpha1.AuthClientSpec{Scopes: scopes}}
	}
	mine := func(cred ClientCredential) store.Client {
		return store.Client{ID: "cli", Source: "ns/cli", Scopes: []string{"read"}, NotBefore: earlier,
			SecretHash: cred.SecretHash, JWKS: cred.JWKS, ServiceAccount: cred.ServiceAccount, SecretVersion: cred.Version}
	}
	secret := ClientCredential{SecretHash: "h1", Version: "v1"}
	keys := ClientCredential{JWKS: jwks, Version: "jwks:inline"}
	account := ClientCredential{ServiceAccount: sa("u1"), Version: "sa@u1"}
	for _, c := range []struct {
		name     string
		client   *v1alpha1.AuthClient
		cred     ClientCredential
		existing store.Client
		want     time.Time
	}{
		{"new registration starts now", client("read"), secret, store.Client{}, now},
		{"another resource's registration starts now", client("read"), secret,
			store.Client{ID: "cli", Source: "other/cli", SecretHash: "h1", NotBefore: earlier}, now},
		{"unchanged keeps it", client("read"), secret, mine(secret), earlier},
		{"a scope change keeps it", client("read", "write"), secret, mine(secret), earlier},
		{"the same secret from a new resourceVersion keeps it", client("read"), ClientCredential{SecretHash: "h1", Version: "v2"}, mine(secret), earlier},
		{"a new secret moves it", client("read"), ClientCredential{SecretHash: "h2", Version: "v2"}, mine(secret), now},
		{"the same key set keeps it", client("read"), keys, mine(keys), earlier},
		{"a new key set moves it", client("read"), ClientCredential{JWKS: publicJWKS(t, signer.AlgES256, 1)}, mine(keys), now},
		{"another kind of credential moves it", client("read"), keys, mine(secret), now},
		{"becoming public moves it", client("read"), ClientCredential{}, mine(secret), now},
		{"the same ServiceAccount keeps it", client("read"), ClientCredential{ServiceAccount: sa("u1")}, mine(account), earlier},
		{"a new ServiceAccount UID moves it", client("read"), ClientCredential{ServiceAccount: sa("u2")}, mine(account), now},
		{"a ServiceAccount gone moves it", client("read"), ClientCredential{ServiceAccount: sa("")}, mine(account), now},
		{"a move behind the old value (clock went back) still moves", client("read"), ClientCredential{SecretHash: "h2"},
			store.Client{ID: "cli", Source: "ns/cli", SecretHash: "h1", NotBefore: later}, later.Add(time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Client(c.client, c.cred, c.existing, now.Add(700*time.Microsecond))
			if !got.NotBefore.Equal(c.want) {
				t.Fatalf("NotBefore = %v, want %v", got.NotBefore, c.want)
			}
		})
	}
}
