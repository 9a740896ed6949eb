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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
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
