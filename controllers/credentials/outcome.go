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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
)

// syncError is a reconcile outcome that the Ready condition reports with a
// reason of its own. Retry marks outcomes worth retrying with backoff (the
// store is down); the others wait for a change to the object or its Secret.
type syncError struct {
	Reason  string
	Message string
	Retry   bool
	Err     error
	// Notice is for the operator only, never the object's status: who holds
	// a contested name, for example, which the claimant's writers must not
	// learn when the holder is in another namespace. It goes to the
	// manager's log and to an Event in the manager's own namespace.
	Notice string
}

func (e *syncError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *syncError) Unwrap() error { return e.Err }

func failed(reason, format string, args ...any) *syncError {
	return &syncError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// storeUnavailable wraps a store error: retried with backoff.
func storeUnavailable(err error) *syncError {
	return &syncError{Reason: v1alpha1.ReasonStoreUnavailable, Message: "credential store unavailable", Retry: true, Err: err}
}

// refused reports whether err is a verdict on the object itself (not
// allowed, held by another, invalid): only then may a reconcile give up
// what the object holds. A transient failure (the cache, the API server,
// the store) changes nothing held.
func refused(err error) bool { return err != nil && !retryable(err) }

// retryable reports whether a reconcile ending in err should be retried.
func retryable(err error) bool {
	var se *syncError
	if errors.As(err, &se) {
		return se.Retry
	}
	return err != nil
}

// readyCondition is the Ready condition for a reconcile that ended in err:
// a pure function of its inputs, table-tested.
func readyCondition(err error, generation int64, syncedMessage string) metav1.Condition {
	c := metav1.Condition{Type: v1alpha1.ConditionTypeReady, ObservedGeneration: generation}
	var se *syncError
	switch {
	case err == nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, v1alpha1.ReasonSynced, syncedMessage
	case errors.As(err, &se):
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, se.Reason, se.Message
	default:
		// An error of the API server or the controller itself: the status
		// says so without its text, which goes to the log.
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, v1alpha1.ReasonReconcileError, "reconcile failed; see the manager's log"
	}
	return c
}
