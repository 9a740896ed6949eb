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

func TestNameHolder(t *testing.T) {
	at := func(sec int64, src string, held bool) claimant {
		return claimant{source: src, created: metav1.Unix(sec, 0), held: held}
	}
	for _, c := range []struct {
		name          string
		record        string
		recordVisible bool
		claimants     []claimant
		want          string // "" for nobody
	}{
		{"the record's writer holds it, however old the others", "b/alice", true,
			[]claimant{at(10, "a/old", false), at(20, "b/alice", true)}, "b/alice"},
		{"an older object renamed to a held name gets nothing", "b/alice", true,
			[]claimant{at(1, "a/renamed", false), at(50, "b/alice", false)}, "b/alice"},
		{"no record: the status holder keeps it (the store lost its data)", "", true,
			[]claimant{at(1, "a/x", false), at(20, "b/alice", true)}, "b/alice"},
		{"a record of an object that no longer claims it: the status holder", "c/gone", true,
			[]claimant{at(1, "a/x", false), at(20, "b/alice", true)}, "b/alice"},
		{"several status holders after a race: the oldest", "", true,
			[]claimant{at(30, "c/z", true), at(20, "b/y", true), at(10, "a/x", false)}, "b/y"},
		{"status holders tied: by source", "", true,
			[]claimant{at(20, "b/y", true), at(20, "a/y", true)}, "a/y"},
		{"nobody: the first to write takes it", "", true,
			[]claimant{at(1, "a/x", false), at(2, "b/y", false)}, ""},
		{"a stale record and no status holder: nobody", "c/gone", true,
			[]claimant{at(1, "a/x", false)}, ""},
		{"a record from a namespace the manager does not watch", "elsewhere/alice", false,
			[]claimant{at(1, "a/x", true)}, "elsewhere/alice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := nameHolder(c.record, c.recordVisible, c.claimants)
			if !ok {
				got.source = ""
			}
			if got.source != c.want {
				t.Fatalf("holder = %q, want %q", got.source, c.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	only := watchedNamespaces([]string{"team-a"})
	for _, c := range []struct {
		src     string
		watched func(string) bool
		want    bool
	}{
		{"team-a/x", only, true}, {"team-b/x", only, false}, {"team-b/x", nil, true}, {"", only, true},
		{"built-in", only, true},
	} {
		if got := visible(c.src, c.watched); got != c.want {
			t.Errorf("visible(%q) = %v, want %v", c.src, got, c.want)
		}
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
