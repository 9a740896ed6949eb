package controllers

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/store"
)

func TestReadyCondition(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status metav1.ConditionStatus
		reason string
		retry  bool
	}{
		{"synced", nil, metav1.ConditionTrue, v1alpha1.ReasonSynced, false},
		{"secret missing", failed(v1alpha1.ReasonSecretNotFound, "Secret %q not found", "x"), metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, false},
		{"invalid hash", failed(v1alpha1.ReasonInvalidHash, "bad"), metav1.ConditionFalse, v1alpha1.ReasonInvalidHash, false},
		{"conflict", failed(v1alpha1.ReasonUsernameConflict, "held"), metav1.ConditionFalse, v1alpha1.ReasonUsernameConflict, false},
		{"store down", storeUnavailable(store.ErrUnavailable), metav1.ConditionFalse, v1alpha1.ReasonStoreUnavailable, true},
		{"wrapped store down", errors.Join(storeUnavailable(store.ErrUnavailable)), metav1.ConditionFalse, v1alpha1.ReasonStoreUnavailable, true},
		{"api error", errors.New("etcdserver: request timed out"), metav1.ConditionFalse, "ReconcileError", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := readyCondition(c.err, 7, "ok")
			if got.Type != v1alpha1.ConditionTypeReady || got.Status != c.status || got.Reason != c.reason || got.ObservedGeneration != 7 {
				t.Fatalf("readyCondition = %+v", got)
			}
			if retryable(c.err) != c.retry {
				t.Fatalf("retryable = %v", !c.retry)
			}
			if c.reason == "ReconcileError" && got.Message == c.err.Error() {
				t.Fatal("an internal error's text reached the status")
			}
		})
	}
}

func TestSetReadyReportsTransitions(t *testing.T) {
	var conds []metav1.Condition
	synced := readyCondition(nil, 1, "ok")
	if !setReady(&conds, synced) {
		t.Fatal("first condition is a transition")
	}
	if setReady(&conds, readyCondition(nil, 2, "ok")) {
		t.Fatal("same status and reason is not a transition")
	}
	if !setReady(&conds, readyCondition(failed(v1alpha1.ReasonSecretNotFound, "x"), 2, "")) {
		t.Fatal("Synced to SecretNotFound is a transition")
	}
	if !setReady(&conds, readyCondition(failed(v1alpha1.ReasonSecretKeyMissing, "x"), 2, "")) {
		t.Fatal("a new reason with the same status is a transition")
	}
}

func TestDesiredUserNotBefore(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	later := now.Add(time.Hour)
	user := func(mut func(*v1alpha1.AuthUser)) *v1alpha1.AuthUser {
		u := &v1alpha1.AuthUser{}
		u.Namespace, u.Name = "ns", "alice"
		if mut != nil {
			mut(u)
		}
		return u
	}
	mine := store.User{Username: "alice", Source: "ns/alice", PasswordHash: "h", NotBefore: earlier}
	for _, c := range []struct {
		name     string
		u        *v1alpha1.AuthUser
		cred     credential
		existing store.User
		want     time.Time
	}{
		{"new record starts now", user(nil), credential{hash: "h"}, store.User{}, now},
		{"another resource's record starts now", user(nil), credential{hash: "h"}, store.User{Username: "alice", Source: "other/alice", NotBefore: earlier}, now},
		{"unchanged record keeps its time", user(nil), credential{hash: "h"}, mine, earlier},
		{"password change moves it to now", user(nil), credential{hash: "h2", changed: true}, mine, now},
		{"disabling moves it to now", user(func(u *v1alpha1.AuthUser) { u.Spec.Disabled = true }), credential{hash: "h"}, mine, now},
		{"staying disabled keeps it", user(func(u *v1alpha1.AuthUser) { u.Spec.Disabled = true }), credential{hash: "h"},
			store.User{Username: "alice", Source: "ns/alice", Disabled: true, NotBefore: earlier}, earlier},
		{"enabling keeps it: nothing comes back", user(nil), credential{hash: "h"},
			store.User{Username: "alice", Source: "ns/alice", Disabled: true, NotBefore: earlier}, earlier},
		{"later revokeTokensBefore wins", user(func(u *v1alpha1.AuthUser) { u.Spec.RevokeTokensBefore = &metav1.Time{Time: later} }), credential{hash: "h"}, mine, later},
		{"older revokeTokensBefore cannot move it back", user(func(u *v1alpha1.AuthUser) {
			u.Spec.RevokeTokensBefore = &metav1.Time{Time: earlier.Add(-time.Hour)}
		}), credential{hash: "h"}, mine, earlier},
		// Tokens carry the record's not-before to the millisecond: every
		// move is a whole millisecond and at least one past the old value.
		{"a move is to the millisecond", user(nil), credential{hash: "h2", changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: earlier}, now},
		{"a move within the old millisecond still moves", user(nil), credential{hash: "h2", changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: now.Add(400 * time.Microsecond)}, now.Add(time.Millisecond)},
		{"a move behind the old value (clock went back) still moves", user(nil), credential{hash: "h2", changed: true},
			store.User{Username: "alice", Source: "ns/alice", NotBefore: later}, later.Add(time.Millisecond)},
		{"a new record after another's later not-before", user(nil), credential{hash: "h"},
			store.User{Username: "alice", Source: "other/alice", NotBefore: later}, later.Add(time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := desiredUser(c.u, c.cred, c.existing, now.Add(700*time.Microsecond))
			if !got.NotBefore.Equal(c.want) {
				t.Fatalf("NotBefore = %v, want %v", got.NotBefore, c.want)
			}
			if got.Source != "ns/alice" || got.Username != "alice" || got.PasswordHash != c.cred.hash {
				t.Fatalf("record %+v", got)
			}
		})
	}
}

func TestClaimant(t *testing.T) {
	at := func(sec int64, ns, name string) *v1alpha1.AuthUser {
		u := &v1alpha1.AuthUser{}
		u.Namespace, u.Name, u.UID = ns, name, types.UID(ns+"/"+name)
		u.CreationTimestamp = metav1.Unix(sec, 0)
		return u
	}
	for _, c := range []struct {
		name string
		objs []*v1alpha1.AuthUser
		want string
	}{
		{"oldest wins", []*v1alpha1.AuthUser{at(20, "a", "x"), at(10, "b", "y"), at(30, "c", "z")}, "b/y"},
		{"ties by namespace", []*v1alpha1.AuthUser{at(10, "b", "x"), at(10, "a", "x")}, "a/x"},
		{"then by name", []*v1alpha1.AuthUser{at(10, "a", "y"), at(10, "a", "x")}, "a/x"},
		{"alone", []*v1alpha1.AuthUser{at(10, "a", "x")}, "a/x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := claimant(c.objs); string(got.GetUID()) != c.want {
				t.Fatalf("claimant = %s, want %s", got.GetUID(), c.want)
			}
		})
	}
}
