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
