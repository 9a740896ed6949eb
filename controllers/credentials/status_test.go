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
