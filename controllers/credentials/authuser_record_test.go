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
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/manifest"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// The manager and `authstack dev` (manifest.Apply) derive the same record
// from the same AuthUser and Secret: one derivation, records.User. A given
// hash and a revokeTokensBefore in the future make the record
// deterministic (no salt, no "now").
func TestManagerAndDevDeriveTheSameRecord(t *testing.T) {
	s := newStack(t)
	hash, err := authtest.FastParams.Hash([]byte(alicePW))
	if err != nil {
		t.Fatal(err)
	}
	s.secret("alice-hash", map[string]string{"passwordHash": hash + "\n"})
	later := metav1.NewTime(time.Now().Add(time.Hour).Truncate(time.Second))
	u := s.user("alice", func(u *v1alpha1.AuthUser) {
		u.Spec.PasswordSecretRef = nil
		u.Spec.PasswordHashSecretRef = &v1alpha1.PasswordHashSecretRef{Name: "alice-hash"}
		u.Spec.Scopes, u.Spec.Groups = []string{"read", "write"}, nil
		u.Spec.RevokeTokensBefore = &later
	})
	s.ready(u, v1alpha1.ReasonSynced)
	manager, err := s.record("alice")
	if err != nil {
		t.Fatal(err)
	}

	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "alice-hash"}, sec); err != nil {
		t.Fatal(err)
	}
	dev := memory.New()
	objs := &manifest.Objects{Users: []v1alpha1.AuthUser{*u}, Secrets: map[string]*corev1.Secret{s.ns + "/alice-hash": sec}}
	if err := manifest.Apply(context.Background(), dev, objs, password.Policy{Params: authtest.FastParams}); err != nil {
		t.Fatal(err)
	}
	got, err := dev.GetUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	normal := func(u store.User) store.User {
		u.NotBefore = u.NotBefore.UTC().Round(0) // the backends keep other locations
		return u
	}
	if !reflect.DeepEqual(normal(got), normal(manager)) {
		t.Fatalf("dev record\n %+v\nmanager record\n %+v", got, manager)
	}
}
