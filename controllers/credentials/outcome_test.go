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
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
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

// Only a verdict on the object releases what it holds: a transient failure
// (the cache, the API server, the store) must not delete a user's record,
// nor drop the status that holds its name across a loss of Redis data.
func TestRefused(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("list tenancy policies: cache not synced"), false},
		{storeUnavailable(errors.New("down")), false},
		{failed(v1alpha1.ReasonNotAllowed, "x"), true},
		{failed(v1alpha1.ReasonUsernameConflict, "x"), true},
		{fmt.Errorf("wrapped: %w", failed(v1alpha1.ReasonInvalidGroup, "x")), true},
	} {
		if got := refused(c.err); got != c.want {
			t.Errorf("refused(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A ServiceAccount client that matches no token says why, with a reason
// of its own; the registration is written all the same (a verdict, not a
// retry).
func TestServiceAccountVerdict(t *testing.T) {
	client := func(pin string) *v1alpha1.AuthClient {
		return &v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "cli"},
			Spec: v1alpha1.AuthClientSpec{ServiceAccountRef: &v1alpha1.ServiceAccountRef{Name: "worker", UID: pin}}}
	}
	for _, c := range []struct {
		name, pin, uid, reason string
	}{
		{"exists", "", "u1", ""},
		{"missing", "", "", v1alpha1.ReasonServiceAccountNotFound},
		{"the pinned one", "u1", "u1", ""},
		{"missing, pinned", "u1", "", v1alpha1.ReasonServiceAccountNotFound},
		{"replaced", "u1", "u2", v1alpha1.ReasonServiceAccountReplaced},
	} {
		err := serviceAccountVerdict(client(c.pin), c.uid)
		got := readyCondition(err, 1, "ok").Reason
		if c.reason == "" && err != nil || c.reason != "" && (got != c.reason || !refused(err)) {
			t.Errorf("%s: %v (%s), want %q", c.name, err, got, c.reason)
		}
	}
}
