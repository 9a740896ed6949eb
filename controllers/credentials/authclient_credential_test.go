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
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
)

// clientJWKS is a JWK Set of a new public key, indented as a person would
// write it, and the compact form the registration holds.
func clientJWKS(t *testing.T) (indented, compact string) {
	t.Helper()
	k, err := signer.Generate(signer.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := signer.NewKeySet(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	compact = string(ks.JWKS())
	return strings.ReplaceAll(compact, ",", ",\n    "), compact
}

func (s *stack) configMap(name string, data map[string]string) {
	s.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}, Data: data}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) setConfigMap(name string, data map[string]string) {
	s.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}}
	patch, _ := json.Marshal(map[string]any{"data": data})
	if err := env.Client.Patch(context.Background(), cm, client.RawPatch(types.MergePatchType, patch)); err != nil {
		s.t.Fatal(err)
	}
}

// registration waits until the client's registration satisfies ok, and
// returns it.
func (s *stack) registration(id, what string, ok func(store.Client) bool) store.Client {
	s.t.Helper()
	var rec store.Client
	s.eventually(what, func() (bool, string) {
		var err error
		rec, err = s.store.GetClient(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		return ok(rec), fmt.Sprintf("%+v", rec)
	})
	return rec
}

func withKeys(pk v1alpha1.ClientPublicKeys) func(*v1alpha1.AuthClient) {
	return func(c *v1alpha1.AuthClient) {
		c.Spec.PublicKeys = &pk
		c.Spec.GrantTypes = []string{v1alpha1.GrantTypeClientCredentials}
	}
}

// A client's public keys, in a ConfigMap or a Secret, become its
// registration's key set, compact; a ConfigMap created late, a key set
// refused and then fixed, and a changed set (which moves the not-before,
// so the client's earlier tokens end) all reach the registration.
func TestClientPublicKeys(t *testing.T) {
	s := newStack(t)
	indented, compact := clientJWKS(t)

	fromCM := s.client("cm-keys", "", withKeys(v1alpha1.ClientPublicKeys{ConfigMapRef: &v1alpha1.PublicKeysRef{Name: "keys"}}))
	s.ready(fromCM, v1alpha1.ReasonConfigMapNotFound)
	s.configMap("keys", map[string]string{"other": indented})
	s.ready(fromCM, v1alpha1.ReasonConfigMapKeyMissing)
	s.setConfigMap("keys", map[string]string{v1alpha1.DefaultJWKSKey: `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}`})
	cond := s.ready(fromCM, v1alpha1.ReasonInvalidPublicKeys)
	if !strings.Contains(cond.Message, `private member "d"`) {
		t.Errorf("invalid keys message %q", cond.Message)
	}
	s.setConfigMap("keys", map[string]string{v1alpha1.DefaultJWKSKey: indented})
	s.ready(fromCM, v1alpha1.ReasonSynced)
	first := s.registration("cm-keys", "the key set", func(r store.Client) bool { return r.JWKS == compact })
	if first.AuthMethod() != store.AuthMethodPrivateKeyJWT || first.NotBefore.IsZero() {
		t.Fatalf("registration %+v", first)
	}

	rotated, rotatedCompact := clientJWKS(t)
	s.setConfigMap("keys", map[string]string{v1alpha1.DefaultJWKSKey: rotated})
	second := s.registration("cm-keys", "the rotated key set", func(r store.Client) bool { return r.JWKS == rotatedCompact })
	if !second.NotBefore.After(first.NotBefore) {
		t.Fatalf("not-before %v after a key change, was %v", second.NotBefore, first.NotBefore)
	}
	// Another key of the ConfigMap changes its resourceVersion, not the
	// set: the not-before stays.
	s.setConfigMap("keys", map[string]string{v1alpha1.DefaultJWKSKey: rotated, "note": "unrelated"})
	third := s.registration("cm-keys", "the new resourceVersion", func(r store.Client) bool { return r.SecretVersion != second.SecretVersion })
	if !third.NotBefore.Equal(second.NotBefore) || third.JWKS != rotatedCompact {
		t.Fatalf("an unrelated ConfigMap change moved the registration: %+v, was %+v", third, second)
	}

	s.secret("secret-keys", map[string]string{"set.json": indented})
	fromSecret := s.client("secret-keys", "", withKeys(v1alpha1.ClientPublicKeys{SecretRef: &v1alpha1.PublicKeysRef{Name: "secret-keys", Key: "set.json"}}))
	s.ready(fromSecret, v1alpha1.ReasonSynced)
	s.registration("secret-keys", "the key set from a Secret", func(r store.Client) bool { return r.JWKS == compact })

	inline := s.client("inline-keys", "", withKeys(v1alpha1.ClientPublicKeys{JWKS: indented}))
	s.ready(inline, v1alpha1.ReasonSynced)
	s.registration("inline-keys", "the inline key set", func(r store.Client) bool { return r.JWKS == compact })
}

func (s *stack) serviceAccount(ns, name string) types.UID {
	s.t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Create(context.Background(), sa); err != nil {
		s.t.Fatal(err)
	}
	return sa.UID
}

func (s *stack) deleteServiceAccount(ns, name string) {
	s.t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Delete(context.Background(), sa); err != nil {
		s.t.Fatal(err)
	}
}

func withServiceAccount(ns, name, uid string) func(*v1alpha1.AuthClient) {
	return func(c *v1alpha1.AuthClient) {
		c.Spec.ServiceAccountRef = &v1alpha1.ServiceAccountRef{Namespace: ns, Name: name, UID: uid}
		c.Spec.GrantTypes = []string{v1alpha1.GrantTypeClientCredentials}
	}
}

func accountUID(uid types.UID) func(store.Client) bool {
	return func(r store.Client) bool { return r.ServiceAccount != nil && r.ServiceAccount.UID == string(uid) }
}

// A ServiceAccount client's registration holds the UID of the account of
// that name. Deleting it fails the client closed (no UID, the not-before
// moved: its tokens end); creating it again is another account, with
// another UID, and moves the not-before again.
func TestServiceAccountClient(t *testing.T) {
	s := newStack(t)
	c := s.client("worker", "", withServiceAccount("", "worker", ""))
	s.ready(c, v1alpha1.ReasonServiceAccountNotFound)
	s.registration("worker", "a registration matching no account", accountUID(""))

	uid := s.serviceAccount(s.ns, "worker")
	s.ready(c, v1alpha1.ReasonSynced)
	first := s.registration("worker", "the account's UID", accountUID(uid))
	if *first.ServiceAccount != (store.ServiceAccount{Namespace: s.ns, Name: "worker", UID: string(uid)}) ||
		first.AuthMethod() != store.AuthMethodServiceAccount {
		t.Fatalf("registration %+v", first)
	}

	s.deleteServiceAccount(s.ns, "worker")
	s.ready(c, v1alpha1.ReasonServiceAccountNotFound)
	gone := s.registration("worker", "the UID to be removed", accountUID(""))
	if !gone.NotBefore.After(first.NotBefore) {
		t.Fatalf("not-before %v after the account was deleted, was %v", gone.NotBefore, first.NotBefore)
	}

	again := s.serviceAccount(s.ns, "worker")
	if again == uid {
		t.Fatal("the API server gave the new account the old UID")
	}
	s.ready(c, v1alpha1.ReasonSynced)
	back := s.registration("worker", "the new account's UID", accountUID(again))
	if !back.NotBefore.After(gone.NotBefore) {
		t.Fatalf("not-before %v after the account was created again, was %v", back.NotBefore, gone.NotBefore)
	}
}

// A pinned UID accepts that account only: one created again under the same
// name is refused until the pin is updated.
func TestPinnedServiceAccountReplaced(t *testing.T) {
	s := newStack(t)
	uid := s.serviceAccount(s.ns, "pinned")
	c := s.client("pinned", "", withServiceAccount("", "pinned", string(uid)))
	s.ready(c, v1alpha1.ReasonSynced)
	s.registration("pinned", "the pinned account's UID", accountUID(uid))

	s.deleteServiceAccount(s.ns, "pinned")
	again := s.serviceAccount(s.ns, "pinned")
	cond := s.ready(c, v1alpha1.ReasonServiceAccountReplaced)
	if !strings.Contains(cond.Message, string(again)) {
		t.Errorf("replaced message %q names not the new UID", cond.Message)
	}
	s.registration("pinned", "no UID while the pin differs", accountUID(""))

	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"serviceAccountRef":{"uid":"`+string(again)+`"}}}`))
	if err := env.Client.Patch(context.Background(), c, patch); err != nil {
		t.Fatal(err)
	}
	s.ready(c, v1alpha1.ReasonSynced)
	s.registration("pinned", "the new pin's UID", accountUID(again))
}

// Another namespace's ServiceAccount: refused with no TenancyPolicy, and
// with one that selects the client's namespace but does not list that
// namespace; allowed once one does. Its own namespace needs no policy.
func TestServiceAccountOfAnotherNamespace(t *testing.T) {
	s := newStack(t, withNamespaces(2))
	ctx := context.Background()
	home, other := s.nss[0], s.nss[1]
	uid := s.serviceAccount(other, "shared")
	open := s.clientIn(home, "open", "", withServiceAccount(other, "shared", ""))
	notAllowed := func(what string) {
		t.Helper()
		cond := s.ready(open, v1alpha1.ReasonNotAllowed)
		if !strings.Contains(cond.Message, "ServiceAccount namespace") || strings.Contains(cond.Message, string(uid)) {
			t.Errorf("%s: not allowed message %q", what, cond.Message)
		}
		if _, err := s.store.GetClient(ctx, "open"); err == nil {
			t.Errorf("%s: the refused client is registered", what)
		}
	}
	notAllowed("no policy")

	policy := &v1alpha1.TenancyPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "sa-" + home},
		Spec: v1alpha1.TenancyPolicySpec{
			Namespaces: v1alpha1.NamespaceSelection{Names: []string{home}},
			ClientIDs:  []string{"open", "cross"},
		},
	}
	if err := env.Client.Create(ctx, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), policy) })
	s.eventually("a policy without the namespace to be seen", func() (bool, string) {
		var p v1alpha1.TenancyPolicy
		return env.Client.Get(ctx, client.ObjectKeyFromObject(policy), &p) == nil, ""
	})
	notAllowed("a policy that does not list it")
	own := s.serviceAccount(home, "local")
	local := s.clientIn(home, "cross", "", withServiceAccount("", "local", ""))
	s.ready(local, v1alpha1.ReasonSynced) // its own namespace needs no policy
	s.registration("cross", "the own namespace's account", accountUID(own))

	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(policy), policy); err != nil {
		t.Fatal(err)
	}
	policy.Spec.ServiceAccountNamespaces = []string{other}
	if err := env.Client.Update(ctx, policy); err != nil {
		t.Fatal(err)
	}
	s.ready(open, v1alpha1.ReasonSynced)
	s.registration("open", "the account allowed by the policy", accountUID(uid))
}

// The CRD's CEL rules: one kind of credential at most, one source of
// public keys, and client_credentials only for a client with a credential.
func TestClientCredentialRules(t *testing.T) {
	s := newStack(t)
	for _, c := range []struct {
		name, message string
		spec          v1alpha1.AuthClientSpec
	}{
		{"secret-and-keys", "at most one of secretRef, publicKeys and serviceAccountRef", v1alpha1.AuthClientSpec{
			SecretRef: &v1alpha1.ClientSecretRef{Name: "s"}, PublicKeys: &v1alpha1.ClientPublicKeys{JWKS: `{"keys":[]}`}}},
		{"keys-and-account", "at most one of secretRef, publicKeys and serviceAccountRef", v1alpha1.AuthClientSpec{
			PublicKeys: &v1alpha1.ClientPublicKeys{JWKS: `{"keys":[]}`}, ServiceAccountRef: &v1alpha1.ServiceAccountRef{Name: "sa"}}},
		{"two-key-sources", "exactly one of jwks, secretRef and configMapRef", v1alpha1.AuthClientSpec{
			PublicKeys: &v1alpha1.ClientPublicKeys{JWKS: `{"keys":[]}`, ConfigMapRef: &v1alpha1.PublicKeysRef{Name: "k"}}}},
		{"public-client-credentials", "the client_credentials grant needs a confidential client", v1alpha1.AuthClientSpec{
			GrantTypes: []string{v1alpha1.GrantTypeClientCredentials}}},
	} {
		obj := &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: c.name}, Spec: c.spec}
		err := env.Client.Create(context.Background(), obj)
		if err == nil || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: %v, want %q", c.name, err, c.message)
		}
	}
	ok := s.client("confidential-cc", "", withServiceAccount("", "sa", ""))
	s.ready(ok, v1alpha1.ReasonServiceAccountNotFound) // created: the rules allow it
}
