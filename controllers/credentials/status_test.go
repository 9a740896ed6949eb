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

package credentials

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

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

// A new object's first Ready=True is reported by its condition alone; every
// failure, and every recovery from one, also by an Event.
func TestReadyEvent(t *testing.T) {
	synced := readyCondition(nil, 1, "ok")
	missing := readyCondition(failed(v1alpha1.ReasonSecretNotFound, "x"), 1, "")
	noKey := readyCondition(failed(v1alpha1.ReasonSecretKeyMissing, "x"), 1, "")
	for _, tc := range []struct {
		name string
		old  *metav1.Condition
		c    metav1.Condition
		want string
	}{
		{"a new object's first Ready", nil, synced, ""},
		{"a new object's first failure", nil, missing, corev1.EventTypeWarning},
		{"a recovery", &missing, synced, corev1.EventTypeNormal},
		{"a failure of a Ready object", &synced, missing, corev1.EventTypeWarning},
		{"another failure", &missing, noKey, corev1.EventTypeWarning},
		{"still Ready", &synced, readyCondition(nil, 2, "ok"), ""},
		{"still failing the same way", &missing, readyCondition(failed(v1alpha1.ReasonSecretNotFound, "y"), 2, ""), ""},
	} {
		if got := readyEvent(tc.old, tc.c); got != tc.want {
			t.Errorf("%s: Event %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The status reflects the record's not-before, and the time of a password
// change only when the reconcile stored one, both to the second: a record
// that did not change leaves the status equal to what the API server
// returned (no patch), and the other writers' fields stay.
func TestRecordStatus(t *testing.T) {
	nb := time.Date(2026, 12, 2, 10, 0, 0, 123_000_000, time.UTC)
	now := nb.Add(1500 * time.Millisecond)
	login := metav1.NewTime(nb.Add(-time.Hour))
	st := v1alpha1.AuthUserStatus{LastLoginTime: &login,
		Throttle: &v1alpha1.AuthUserThrottle{Until: metav1.NewTime(now.Add(time.Minute).Truncate(time.Second)), Limit: "user_ip"}}
	before := *st.DeepCopy()

	recordStatus(&st, store.User{NotBefore: nb}, false, now)
	if got := st.TokensNotBefore; got == nil || !got.Equal(ptrTime(nb.Truncate(time.Second))) {
		t.Fatalf("tokensNotBefore %v, want %v", got, nb.Truncate(time.Second))
	}
	if st.PasswordChangedTime != nil {
		t.Fatalf("passwordChangedTime %v without a password change", st.PasswordChangedTime)
	}
	if !equality.Semantic.DeepEqual(st.LastLoginTime, before.LastLoginTime) || !equality.Semantic.DeepEqual(st.Throttle, before.Throttle) {
		t.Fatal("lastLoginTime or throttle changed")
	}

	// The status as the API server returns it (Local time, whole seconds)
	// equals the one the next reconcile of the same record computes.
	read := st.DeepCopy()
	read.TokensNotBefore = ptrTime(read.TokensNotBefore.Local())
	again := read.DeepCopy()
	recordStatus(again, store.User{NotBefore: nb}, false, now.Add(time.Hour))
	if !equality.Semantic.DeepEqual(read, again) {
		t.Fatalf("an unchanged record changed the status: %+v, was %+v", again, read)
	}

	recordStatus(&st, store.User{NotBefore: now}, true, now)
	if got := st.PasswordChangedTime; got == nil || !got.Equal(ptrTime(now.Truncate(time.Second))) {
		t.Fatalf("passwordChangedTime %v, want %v", got, now.Truncate(time.Second))
	}
	changed := *st.PasswordChangedTime
	recordStatus(&st, store.User{NotBefore: now}, false, now.Add(time.Hour))
	if !st.PasswordChangedTime.Equal(&changed) {
		t.Fatalf("passwordChangedTime moved to %v without a password change", st.PasswordChangedTime)
	}
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}
