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
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/authtest"
)

const (
	alicePW  = "wonderland-rabbit-42"
	alicePW2 = "through-the-looking-glass-7"
)

func TestAppliedUserCanLogIn(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	u := s.user("alice")
	c := s.ready(u, v1alpha1.ReasonSynced)
	if c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %s", c.Status)
	}
	tok := s.mustLogin("alice", alicePW)
	if code := s.userinfo(tok); code != http.StatusOK {
		t.Fatalf("userinfo with a fresh token: %d", code)
	}
	if code, tr := s.login("alice", "wrong"); code != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("wrong password: %d %s", code, tr.Error)
	}
	rec, err := s.record("alice")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Source != s.ns+"/alice" || !strings.HasPrefix(rec.PasswordHash, "$argon2id$") || rec.Groups[0] != "staff" {
		t.Fatalf("record %+v", rec)
	}
	if u.Status.Username != "alice" || !slices.Contains(u.Finalizers, "authstack.dev/credential-record") {
		t.Fatalf("status.username %q, finalizers %v", u.Status.Username, u.Finalizers)
	}
}

// awaitEvent waits for an Event of type kind and reason regarding the
// object name.
func (s *stack) awaitEvent(name, kind, reason string) {
	s.t.Helper()
	s.eventually("a "+kind+" "+reason+" Event", func() (bool, string) {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(s.ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == name && e.Type == kind && e.Reason == reason {
				return true, ""
			}
		}
		return false, "no such Event"
	})
}

// A new password works at once; the old one and tokens issued before it do
// not. A Secret change that keeps the password (a label) keeps the tokens.
func TestPasswordChange(t *testing.T) {
	s := newStack(t)
	s.readyUser("alice", alicePW)
	tok := s.mustLogin("alice", alicePW)
	before, _ := s.record("alice")

	// Same password, another key added: the hash and the tokens stay.
	s.setSecret("alice-password", map[string]string{"password": alicePW, "note": "rotated soon"})
	s.eventually("the record to note the new Secret version", func() (bool, string) {
		rec, err := s.record("alice")
		return err == nil && rec.SecretVersion != before.SecretVersion, rec.SecretVersion
	})
	if rec, _ := s.record("alice"); rec.PasswordHash != before.PasswordHash || !rec.NotBefore.Equal(before.NotBefore) {
		t.Fatal("an unchanged password was hashed again or revoked the tokens")
	}
	if code := s.userinfo(tok); code != http.StatusOK {
		t.Fatalf("token after a Secret change that kept the password: %d", code)
	}

	s.setSecret("alice-password", map[string]string{"password": alicePW2})
	s.mustLogin("alice", alicePW2)
	if code, _ := s.login("alice", alicePW); code != http.StatusBadRequest {
		t.Fatalf("old password after the change: %d", code)
	}
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("token issued before the password change: %d", code)
	}
}

// Disabling refuses logins and every token; enabling again does not bring
// the old tokens back.
func TestDisable(t *testing.T) {
	s := newStack(t)
	u := s.readyUser("alice", alicePW)
	tok := s.mustLogin("alice", alicePW)

	s.patchUser("alice", `{"spec":{"disabled":true}}`)
	s.eventually("alice's token to be refused", func() (bool, string) {
		return s.userinfo(tok) == http.StatusUnauthorized, ""
	})
	if code, tr := s.login("alice", alicePW); code != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("disabled user's login: %d %s", code, tr.Error)
	}
	if c := s.ready(u, v1alpha1.ReasonSynced); !strings.Contains(c.Message, "disabled") {
		t.Fatalf("Ready message %q does not say the user is disabled", c.Message)
	}

	s.patchUser("alice", `{"spec":{"disabled":false}}`)
	s.mustLogin("alice", alicePW)
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("a token revoked by disabling came back: %d", code)
	}
}

// kubectl patch ... revokeTokensBefore=<now> logs a user out everywhere.
func TestRevokeTokensBefore(t *testing.T) {
	s := newStack(t)
	s.readyUser("alice", alicePW)
	tok := s.mustLogin("alice", alicePW)
	time.Sleep(1100 * time.Millisecond) // iat has whole seconds
	now := time.Now().UTC().Format(time.RFC3339)
	s.patchUser("alice", `{"spec":{"revokeTokensBefore":"`+now+`"}}`)
	s.eventually("the old token to be refused", func() (bool, string) {
		return s.userinfo(tok) == http.StatusUnauthorized, ""
	})
	fresh := s.mustLogin("alice", alicePW)
	if code := s.userinfo(fresh); code != http.StatusOK {
		t.Fatalf("token issued after revokeTokensBefore: %d", code)
	}
}

// Deleting the AuthUser removes its record (the finalizer waits for it) and
// its tokens; a user re-created with the same name does not revive them.
func TestDelete(t *testing.T) {
	s := newStack(t)
	u := s.readyUser("alice", alicePW)
	tok := s.mustLogin("alice", alicePW)
	if err := env.Client.Delete(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s.eventually("the AuthUser to be gone", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), &v1alpha1.AuthUser{})
		return client.IgnoreNotFound(err) == nil && err != nil, "still there"
	})
	if _, err := s.record("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record after delete: %v", err)
	}
	if code, _ := s.login("alice", alicePW); code != http.StatusBadRequest {
		t.Fatalf("deleted user's login: %d", code)
	}
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("deleted user's token: %d", code)
	}
	s.ready(s.user("alice"), v1alpha1.ReasonSynced)
	s.mustLogin("alice", alicePW)
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("a token of the deleted user works for the re-created one: %d", code)
	}
}

// The holder of a username keeps it; another claimant reports the
// conflict, without naming the holder, writes nothing, and takes over when
// the holder goes.
func TestUsernameConflict(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.secret("impostor-password", map[string]string{"password": "impostor-pw-123"})
	first := s.user("alice")
	s.ready(first, v1alpha1.ReasonSynced)
	second := s.user("impostor", func(u *v1alpha1.AuthUser) { u.Spec.Username = "alice" })
	c := s.ready(second, v1alpha1.ReasonUsernameConflict)
	if strings.Contains(c.Message, s.ns+"/") || !strings.Contains(c.Message, "held by another AuthUser") {
		t.Fatalf("conflict message %q", c.Message)
	}
	if code, _ := s.login("alice", "impostor-pw-123"); code != http.StatusBadRequest {
		t.Fatal("the conflicting user's password works")
	}
	if rec, _ := s.record("alice"); rec.Source != s.ns+"/alice" {
		t.Fatalf("record taken over: %s", rec.Source)
	}
	if err := env.Client.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	s.ready(second, v1alpha1.ReasonSynced)
	s.mustLogin("alice", "impostor-pw-123")
}

// A user applied before its Secret becomes Ready when the Secret appears.
func TestSecretCreatedAfterUser(t *testing.T) {
	s := newStack(t)
	u := s.user("alice")
	s.ready(u, v1alpha1.ReasonSecretNotFound)
	s.secret("alice-password", map[string]string{"other": "x"})
	s.ready(u, v1alpha1.ReasonSecretKeyMissing)
	s.setSecret("alice-password", map[string]string{"password": alicePW})
	s.ready(u, v1alpha1.ReasonSynced)
	s.mustLogin("alice", alicePW)
	// Each failure, and the recovery, is reported as an Event too.
	s.awaitEvent("alice", corev1.EventTypeWarning, v1alpha1.ReasonSecretNotFound)
	s.awaitEvent("alice", corev1.EventTypeWarning, v1alpha1.ReasonSecretKeyMissing)
	s.awaitEvent("alice", corev1.EventTypeNormal, v1alpha1.ReasonSynced)
}

// A given hash is checked: garbage is InvalidHash and writes nothing; a
// bcrypt hash is taken as it is.
func TestPasswordHashSecret(t *testing.T) {
	s := newStack(t)
	s.secret("bob-hash", map[string]string{"passwordHash": "$2b$10$not-a-real-hash"})
	u := s.user("bob", func(u *v1alpha1.AuthUser) {
		u.Spec.PasswordSecretRef = nil
		u.Spec.PasswordHashSecretRef = &v1alpha1.PasswordHashSecretRef{Name: "bob-hash"}
	})
	s.ready(u, v1alpha1.ReasonInvalidHash)
	if _, err := s.record("bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record for an invalid hash: %v", err)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("builder-bob-77"), bcrypt.MinCost)
	s.setSecret("bob-hash", map[string]string{"passwordHash": string(h)})
	s.ready(u, v1alpha1.ReasonSynced)
	s.mustLogin("bob", "builder-bob-77")
	if rec, _ := s.record("bob"); rec.PasswordHash != string(h) {
		t.Fatal("the given hash was not stored as it is")
	}
}

// A given hash costing more than --hash-cost-factor times the servers'
// own is refused with InvalidHash, naming the cap, and writes nothing: the
// token servers would treat it as invalid, so the user could not log in.
func TestPasswordHashAboveTheCostCap(t *testing.T) {
	s := newStack(t, withOptions(func(_ *stack, o *credentials.Options) { o.HashCostFactor = 4 }))
	heavy, err := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash([]byte("builder-bob-77"))
	if err != nil {
		t.Fatal(err)
	}
	s.secret("bob-hash", map[string]string{"passwordHash": heavy})
	u := s.user("bob", func(u *v1alpha1.AuthUser) {
		u.Spec.PasswordSecretRef = nil
		u.Spec.PasswordHashSecretRef = &v1alpha1.PasswordHashSecretRef{Name: "bob-hash"}
	})
	c := s.ready(u, v1alpha1.ReasonInvalidHash)
	want := `Secret "bob-hash" key "passwordHash": argon2id m=1024,t=1 costs 16.0 times the server's m=64,t=1, above the cap of 4 times (--hash-cost-factor)`
	if c.Message != want {
		t.Errorf("message %q, want %q", c.Message, want)
	}
	if _, err := s.record("bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record for a hash above the cap: %v", err)
	}
	within, _ := authtest.FastParams.Hash([]byte("builder-bob-77"))
	s.setSecret("bob-hash", map[string]string{"passwordHash": within})
	s.ready(u, v1alpha1.ReasonSynced)
	s.mustLogin("bob", "builder-bob-77")
}

// Redis losing its data (FLUSHALL) is noticed through the epoch marker and
// every record is rewritten; tokens from before are refused.
func TestStoreDataLossIsRepaired(t *testing.T) {
	s := newStack(t)
	s.readyUser("alice", alicePW)
	tok := s.mustLogin("alice", alicePW)
	time.Sleep(1100 * time.Millisecond) // iat has whole seconds
	s.redis.FlushAll()
	s.mustLogin("alice", alicePW)
	if code := s.userinfo(tok); code != http.StatusUnauthorized {
		t.Fatalf("a token from before the data loss: %d", code)
	}
}

// Redis down while a user is applied: StoreUnavailable, then Ready once
// Redis is back, without any other change.
func TestStoreOutage(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.redis.Stop()
	u := s.user("alice")
	s.ready(u, v1alpha1.ReasonStoreUnavailable)
	s.redis.Restart()
	s.ready(u, v1alpha1.ReasonSynced)
	s.mustLogin("alice", alicePW)
}

// The CRD's CEL rule: exactly one of the two Secret references.
func TestExactlyOneSecretReference(t *testing.T) {
	ns := env.Namespace(t)
	for name, spec := range map[string]v1alpha1.AuthUserSpec{
		"both": {PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: "a"}, PasswordHashSecretRef: &v1alpha1.PasswordHashSecretRef{Name: "b"}},
		"none": {},
	} {
		u := &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
		err := env.Client.Create(context.Background(), u)
		if err == nil || !strings.Contains(err.Error(), "exactly one of passwordSecretRef and passwordHashSecretRef") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A reconcile that finds nothing to change writes nothing: no status patch,
// no record rewrite, no new hash.
func TestNoChangeWritesNothing(t *testing.T) {
	s := newStack(t)
	u := s.readyUser("alice", alicePW)
	rec, _ := s.record("alice")
	rv := s.patchUser("alice", `{"metadata":{"labels":{"team":"wonderland"}}}`)
	time.Sleep(time.Second) // the label's event is reconciled meanwhile
	var later v1alpha1.AuthUser
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), &later); err != nil {
		t.Fatal(err)
	}
	if later.ResourceVersion != rv {
		t.Fatalf("status was patched although nothing changed: %s → %s", rv, later.ResourceVersion)
	}
	if again, _ := s.record("alice"); !reflect.DeepEqual(again, rec) {
		t.Fatalf("record rewritten:\n%+v\n%+v", rec, again)
	}
}

// A user whose Secret is gone can still be disabled and logged out: the
// record keeps the last good password but follows the spec.
func TestDisableWithTheSecretGone(t *testing.T) {
	s := newStack(t)
	sec := s.secret("alice-password", map[string]string{"password": alicePW})
	u := s.user("alice")
	s.ready(u, v1alpha1.ReasonSynced)
	tok := s.mustLogin("alice", alicePW)
	if err := env.Client.Delete(context.Background(), sec); err != nil {
		t.Fatal(err)
	}
	s.ready(u, v1alpha1.ReasonSecretNotFound)
	// The last good password keeps working while the Secret is missing.
	s.mustLogin("alice", alicePW)
	s.patchUser("alice", `{"spec":{"disabled":true}}`)
	s.eventually("alice's token to be refused", func() (bool, string) {
		return s.userinfo(tok) == http.StatusUnauthorized, ""
	})
	// The state (what validators read) is written before the record (what
	// /token reads), a moment apart.
	s.eventually("alice's password to be refused", func() (bool, string) {
		code, _ := s.login("alice", alicePW)
		return code == http.StatusBadRequest, fmt.Sprint("login: ", code)
	})
	s.ready(u, v1alpha1.ReasonSecretNotFound)
}

// Renaming a user frees the old username, even when the new one is taken.
func TestRenameReleasesTheOldUsername(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.secret("bob-password", map[string]string{"password": "builder-bob-77"})
	s.ready(s.user("bob"), v1alpha1.ReasonSynced)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has whole seconds: bob is older
	u := s.user("alice")
	s.ready(u, v1alpha1.ReasonSynced)
	s.patchUser("alice", `{"spec":{"username":"alice2"}}`)
	s.ready(u, v1alpha1.ReasonSynced)
	s.mustLogin("alice2", alicePW)
	if _, err := s.record("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old username's record after a rename: %v", err)
	}
	// Into a name an older user holds: conflict, and alice2 is freed too.
	s.patchUser("alice", `{"spec":{"username":"bob"}}`)
	s.ready(u, v1alpha1.ReasonUsernameConflict)
	if _, err := s.record("alice2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("renamed-away username still has a record: %v", err)
	}
	if code, _ := s.login("alice2", alicePW); code != http.StatusBadRequest {
		t.Fatalf("old username logs in after a rename into a conflict: %d", code)
	}
}

// The manager's cache holds no Secret data: not even what kubectl apply
// copies into the last-applied-configuration annotation.
func TestCacheHoldsNoSecretData(t *testing.T) {
	s := newStack(t)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-password", Namespace: s.ns, Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"password":"` + alicePW + `"}}`,
		}},
		StringData: map[string]string{"password": alicePW},
	}
	if err := env.Client.Create(context.Background(), sec); err != nil {
		t.Fatal(err)
	}
	s.ready(s.user("alice"), v1alpha1.ReasonSynced)
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := s.cache.Get(context.Background(), client.ObjectKeyFromObject(sec), m); err != nil {
		t.Fatal(err)
	}
	if m.ResourceVersion == "" {
		t.Fatal("cached metadata lost its resourceVersion")
	}
	if len(m.Annotations) != 0 || len(m.ManagedFields) != 0 || len(m.Labels) != 0 {
		t.Fatalf("cached Secret metadata keeps annotations %v, managedFields %d, labels %v", m.Annotations, len(m.ManagedFields), m.Labels)
	}
}

// Records whose resource is gone are removed; records of other tools or of
// namespaces this manager does not watch are not.
func TestOrphanedRecordsAreRemoved(t *testing.T) {
	s := newStack(t)
	s.readyUser("alice", alicePW)
	ctx := context.Background()
	for _, u := range []store.User{
		{Username: "ghost", PasswordHash: "h", Source: s.ns + "/ghost"},
		{Username: "foreign", PasswordHash: "h"},
		{Username: "elsewhere", PasswordHash: "h", Source: "not-watched/elsewhere"},
	} {
		if err := s.store.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.PutClient(ctx, store.Client{ID: "ghost-client", Source: s.ns + "/ghost-client"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("the orphans to be removed", func() (bool, string) {
		_, uerr := s.record("ghost")
		_, cerr := s.store.GetClient(ctx, "ghost-client")
		return errors.Is(uerr, store.ErrNotFound) && errors.Is(cerr, store.ErrNotFound), ""
	})
	for _, name := range []string{"alice", "foreign", "elsewhere"} {
		if _, err := s.record(name); err != nil {
			t.Errorf("record %s removed: %v", name, err)
		}
	}
}

// Deleting while Redis does not answer waits (finalizer kept,
// StoreUnavailable) and completes when it answers again: the record, still
// in Redis, is removed.
func TestDeleteWhileStoreIsDown(t *testing.T) {
	s := newStack(t)
	u := s.readyUser("alice", alicePW)
	// Redis stops answering (CLIENT PAUSE), keeping its data.
	if err := s.redis.Client().Do(context.Background(), "CLIENT", "PAUSE", "6000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s.eventually("StoreUnavailable on the deleting user", func() (bool, string) {
		var got v1alpha1.AuthUser
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), &got); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionTypeReady)
		return c != nil && c.Reason == v1alpha1.ReasonStoreUnavailable && got.DeletionTimestamp != nil, ""
	})
	s.eventually("the AuthUser to be gone once Redis answers", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(u), &v1alpha1.AuthUser{})
		return err != nil && client.IgnoreNotFound(err) == nil, "still there"
	})
	if _, err := s.record("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record left behind: %v", err)
	}
}
