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
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

const billingSecret = "billing-secret-with-more-than-32-characters"

// A confidential client applied with kubectl authenticates with its secret;
// a short secret is refused; deleting the client removes its registration.
func TestConfidentialClient(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.ready(s.user("alice"), v1alpha1.ReasonSynced)
	s.secret("billing", map[string]string{"clientSecret": "too-short"})
	c := &v1alpha1.AuthClient{
		ObjectMeta: metav1.ObjectMeta{Name: "billing", Namespace: s.ns},
		Spec: v1alpha1.AuthClientSpec{
			SecretRef: &v1alpha1.ClientSecretRef{Name: "billing"},
			Scopes:    []string{"read"}, Audiences: []string{"https://billing.test"},
		},
	}
	if err := env.Client.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	s.ready(c, v1alpha1.ReasonInvalidSecret)
	s.setSecret("billing", map[string]string{"clientSecret": billingSecret})
	s.ready(c, v1alpha1.ReasonSynced)

	token := func(secret string) int {
		form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("billing:"+secret)))
		rec := httptest.NewRecorder()
		s.server.ServeHTTP(rec, req)
		return rec.Code
	}
	s.eventually("a token for the billing client", func() (bool, string) { return token(billingSecret) == http.StatusOK, "" })
	if code := token(billingSecret + "x"); code != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %d", code)
	}
	rec, err := s.store.GetClient(context.Background(), "billing")
	if err != nil || rec.Audiences[0] != "https://billing.test" || rec.Source != s.ns+"/billing" {
		t.Fatalf("registration %+v, %v", rec, err)
	}
	if err := env.Client.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	s.eventually("the registration to be removed", func() (bool, string) {
		_, err := s.store.GetClient(context.Background(), "billing")
		return errors.Is(err, store.ErrNotFound), ""
	})
	if code := token(billingSecret); code != http.StatusUnauthorized {
		t.Fatalf("deleted client: %d", code)
	}
}

func (s *stack) client(name, secretName string, mutate ...func(*v1alpha1.AuthClient)) *v1alpha1.AuthClient {
	s.t.Helper()
	return s.clientIn(s.ns, name, secretName, mutate...)
}

func (s *stack) clientIn(ns, name, secretName string, mutate ...func(*v1alpha1.AuthClient)) *v1alpha1.AuthClient {
	s.t.Helper()
	c := &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if secretName != "" {
		c.Spec.SecretRef = &v1alpha1.ClientSecretRef{Name: secretName}
	}
	for _, m := range mutate {
		m(c)
	}
	if err := env.Client.Create(context.Background(), c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// A rotated client secret replaces the old one; the registration comes back
// after Redis loses its data; a second AuthClient with the same client ID
// reports the conflict and writes nothing.
func TestClientSecretRotationRestoreAndConflict(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	s.secret("billing", map[string]string{"clientSecret": billingSecret})
	c := s.client("billing", "billing")
	s.ready(c, v1alpha1.ReasonSynced)
	if _, err := s.store.GetClient(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	rotated := billingSecret + "-rotated"
	s.setSecret("billing", map[string]string{"clientSecret": rotated})
	s.eventually("the rotated secret to be registered", func() (bool, string) {
		rec, err := s.store.GetClient(ctx, "billing")
		return err == nil && rec.SecretHash == store.HashClientSecret(rotated), ""
	})

	s.redis.FlushAll()
	s.eventually("the registration to be restored", func() (bool, string) {
		rec, err := s.store.GetClient(ctx, "billing")
		return err == nil && rec.SecretHash == store.HashClientSecret(rotated), ""
	})

	dup := s.client("zz-billing-copy", "", func(c *v1alpha1.AuthClient) { c.Spec.ClientID = "billing" })
	cond := s.ready(dup, v1alpha1.ReasonClientIDConflict)
	if strings.Contains(cond.Message, s.ns+"/") || !strings.Contains(cond.Message, "held by another AuthClient") {
		t.Fatalf("conflict message %q", cond.Message)
	}
	if rec, _ := s.store.GetClient(ctx, "billing"); rec.Source != s.ns+"/billing" || rec.SecretHash == "" {
		t.Fatalf("the conflicting client changed the registration: %+v", rec)
	}
}

// Renaming a client frees the old client ID, even when the new one is
// taken: the same order as a renamed user (docs/decisions.md).
func TestRenameReleasesTheOldClientID(t *testing.T) {
	s := newStack(t)
	s.secret("billing", map[string]string{"clientSecret": billingSecret})
	s.ready(s.client("billing", "billing"), v1alpha1.ReasonSynced)
	c := s.client("reports", "")
	s.ready(c, v1alpha1.ReasonSynced)
	rename := func(id string) {
		t.Helper()
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"clientID":"`+id+`"}}`))
		if err := env.Client.Patch(context.Background(), c, patch); err != nil {
			t.Fatal(err)
		}
	}
	rename("reports2")
	s.ready(c, v1alpha1.ReasonSynced)
	if _, err := s.store.GetClient(context.Background(), "reports2"); err != nil {
		t.Fatalf("new client ID's registration after a rename: %v", err)
	}
	if _, err := s.store.GetClient(context.Background(), "reports"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old client ID's registration after a rename: %v", err)
	}
	// Into a client ID another client holds: conflict, and reports2 is
	// freed too; the holder's registration is untouched.
	rename("billing")
	s.ready(c, v1alpha1.ReasonClientIDConflict)
	if _, err := s.store.GetClient(context.Background(), "reports2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("renamed-away client ID still has a registration: %v", err)
	}
	if c.Status.ClientID != "" {
		t.Fatalf("status.clientID %q after a rename into a conflict", c.Status.ClientID)
	}
	rec, err := s.store.GetClient(context.Background(), "billing")
	if err != nil || rec.Source != s.ns+"/billing" {
		t.Fatalf("the holder's registration: %+v, %v", rec, err)
	}
}
