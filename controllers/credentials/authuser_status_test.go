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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// patchStatus applies a merge patch to the AuthUser's status subresource,
// as the manager's login-state writer does.
func (s *stack) patchStatus(name, patch string) {
	s.t.Helper()
	u := &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}}
	if err := env.Client.Status().Patch(context.Background(), u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		s.t.Fatal(err)
	}
}

// settled changes the AuthUser's scopes and waits for the reconcile of
// that generation, which runs after every reconcile before it (one object
// is reconciled one pass at a time), and returns the status it left.
func (s *stack) settled(u *v1alpha1.AuthUser, scopes string) v1alpha1.AuthUserStatus {
	s.t.Helper()
	s.patchUser(u.Name, `{"spec":{"scopes":`+scopes+`}}`)
	s.ready(u, v1alpha1.ReasonSynced)
	return u.Status
}

// The manager reflects each AuthUser's record in its status:
// tokensNotBefore is the record's not-before, and passwordChangedTime the
// time it stored a new password (not a new user's first one, nor an
// unchanged password read again from a changed Secret). Its status patches
// leave what the login-state writer keeps (lastLoginTime, throttle).
func TestStatusReflectsTheRecord(t *testing.T) {
	s := newStack(t)
	u := s.readyUser("alice", alicePW)
	first, err := s.record("alice")
	if err != nil {
		t.Fatal(err)
	}
	checkNotBefore := func(st v1alpha1.AuthUserStatus, want time.Time, when string) {
		t.Helper()
		if st.TokensNotBefore == nil || !st.TokensNotBefore.Time.Equal(want.Truncate(time.Second)) {
			t.Fatalf("%s: tokensNotBefore %v, want %v (the record's, to the second)", when, st.TokensNotBefore, want.Truncate(time.Second))
		}
	}
	checkNotBefore(u.Status, first.NotBefore, "a new user")
	if u.Status.PasswordChangedTime != nil {
		t.Fatalf("a new user's first password is reported as a change at %v", u.Status.PasswordChangedTime)
	}

	login := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	s.patchStatus("alice", fmt.Sprintf(`{"status":{"lastLoginTime":%q,"throttle":{"until":%q,"limit":"user_ip"}}}`,
		login.Format(time.RFC3339), until.Format(time.RFC3339)))
	checkLoginState := func(st v1alpha1.AuthUserStatus, when string) {
		t.Helper()
		if st.LastLoginTime == nil || !st.LastLoginTime.Time.Equal(login) ||
			st.Throttle == nil || !st.Throttle.Until.Time.Equal(until) || st.Throttle.Limit != "user_ip" {
			t.Fatalf("%s: lastLoginTime %v, throttle %+v: the manager's status patch cleared the login state", when, st.LastLoginTime, st.Throttle)
		}
	}

	// The Secret changes, the password does not: no password change.
	s.setSecret("alice-password", map[string]string{"password": alicePW, "note": "rotated soon"})
	s.eventually("the record to note the new Secret version", func() (bool, string) {
		rec, err := s.record("alice")
		return err == nil && rec.SecretVersion != first.SecretVersion, rec.SecretVersion
	})
	st := s.settled(u, `["read","write"]`)
	if st.PasswordChangedTime != nil {
		t.Fatalf("an unchanged password read again is reported as a change at %v", st.PasswordChangedTime)
	}
	checkNotBefore(st, first.NotBefore, "an unchanged password")
	checkLoginState(st, "an unchanged password")

	// A new password.
	changing := time.Now().Truncate(time.Second)
	s.setSecret("alice-password", map[string]string{"password": alicePW2})
	s.eventually("the record to hold the new password's hash", func() (bool, string) {
		rec, err := s.record("alice")
		return err == nil && rec.PasswordHash != first.PasswordHash, "the old hash"
	})
	st = s.settled(u, `["read"]`)
	changed, err := s.record("alice")
	if err != nil {
		t.Fatal(err)
	}
	if st.PasswordChangedTime == nil || st.PasswordChangedTime.Time.Before(changing) {
		t.Fatalf("passwordChangedTime %v after a password change at %v", st.PasswordChangedTime, changing)
	}
	checkNotBefore(st, changed.NotBefore, "a password change")
	if !changed.NotBefore.After(first.NotBefore) {
		t.Fatalf("the password change left the not-before at %v", changed.NotBefore)
	}
	checkLoginState(st, "a password change")

	// spec.revokeTokensBefore, later than the not-before: the status
	// follows the record.
	revoke := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	s.patchUser("alice", `{"spec":{"revokeTokensBefore":"`+revoke.Format(time.RFC3339)+`"}}`)
	s.ready(u, v1alpha1.ReasonSynced)
	checkNotBefore(u.Status, revoke, "revokeTokensBefore")
	if !u.Status.PasswordChangedTime.Equal(st.PasswordChangedTime) {
		t.Fatalf("revokeTokensBefore moved passwordChangedTime from %v to %v", st.PasswordChangedTime, u.Status.PasswordChangedTime)
	}
}

// A user whose Secret gives the hash: a new hash in it is a password
// change.
func TestStatusReportsAGivenHashChange(t *testing.T) {
	s := newStack(t)
	hash := func(pw string) string {
		h, err := authtest.FastParams.Hash([]byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	s.secret("bob-hash", map[string]string{"passwordHash": hash(alicePW)})
	u := s.user("bob", func(u *v1alpha1.AuthUser) {
		u.Spec.PasswordSecretRef = nil
		u.Spec.PasswordHashSecretRef = &v1alpha1.PasswordHashSecretRef{Name: "bob-hash"}
	})
	s.ready(u, v1alpha1.ReasonSynced)
	if u.Status.PasswordChangedTime != nil || u.Status.TokensNotBefore == nil {
		t.Fatalf("a new user: passwordChangedTime %v, tokensNotBefore %v", u.Status.PasswordChangedTime, u.Status.TokensNotBefore)
	}
	first, err := s.record("bob")
	if err != nil {
		t.Fatal(err)
	}
	changing := time.Now().Truncate(time.Second)
	s.setSecret("bob-hash", map[string]string{"passwordHash": hash(alicePW2)})
	s.eventually("the record to hold the new hash", func() (bool, string) {
		rec, err := s.record("bob")
		return err == nil && rec.PasswordHash != first.PasswordHash, "the old hash"
	})
	st := s.settled(u, `["read","write"]`)
	if st.PasswordChangedTime == nil || st.PasswordChangedTime.Time.Before(changing) {
		t.Fatalf("passwordChangedTime %v after a new hash at %v", st.PasswordChangedTime, changing)
	}
}
