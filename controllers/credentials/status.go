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
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

// statusFields points into the status of an AuthUser or AuthClient.
type statusFields struct {
	conditions         *[]metav1.Condition
	observedGeneration *int64
}

// setReady puts c into conds and reports whether the Ready condition
// transitioned (its status or reason changed). The transition time is kept
// when the status stays the same.
func setReady(conds *[]metav1.Condition, c metav1.Condition) (transition bool) {
	old := meta.FindStatusCondition(*conds, c.Type)
	transition = old == nil || old.Status != c.Status || old.Reason != c.Reason
	meta.SetStatusCondition(conds, c)
	return transition
}

// recordStatus reflects the record rec the manager holds for an AuthUser
// in its status: tokensNotBefore is the record's not-before, and
// passwordChangedTime moves to now when this reconcile stored a new
// password (records.Credential.Changed: the Secret's password no longer
// verifies against the stored hash, or its given hash is another; neither
// a new record nor an unchanged password re-read is a change). Both are
// kept to the second, as the API server stores them, so that an unchanged
// record leaves the status as it was: the reconcile patches nothing.
// They go out with the reconcile's one status patch, a merge patch of
// what changed, which leaves the fields other writers keep
// (lastLoginTime, throttle) alone.
func recordStatus(st *v1alpha1.AuthUserStatus, rec store.User, passwordChanged bool, now time.Time) {
	st.TokensNotBefore = toSecond(rec.NotBefore)
	if passwordChanged {
		st.PasswordChangedTime = toSecond(now)
	}
}

// toSecond is t as the API server keeps a metav1.Time: to the second.
func toSecond(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// readyEvent is the type of the Event that Ready changing from old (nil:
// the object had none) to c is reported with, or "" for none: a Warning
// for each change to a failure, a Normal Event for a recovery or a change
// of reason. A new object's first Ready=True has none: its condition says
// the same, and an Event per new user was a fourth API request, the third
// write, and an Event object kept an hour, for each user of a fresh install
// (docs/operations.md, "The manager's throughput").
func readyEvent(old *metav1.Condition, c metav1.Condition) string {
	switch {
	case old != nil && old.Status == c.Status && old.Reason == c.Reason:
		return "" // not a transition
	case c.Status != metav1.ConditionTrue:
		return corev1.EventTypeWarning
	case old == nil:
		return ""
	}
	return corev1.EventTypeNormal
}

// statusWriter patches status once per reconcile and emits an Event for
// each transition of Ready (readyEvent), so every outcome is reported the
// same way.
type statusWriter struct {
	client   client.Client
	recorder events.EventRecorder
	// operator, if set, receives the Notice of an outcome that is a
	// transition (see syncError.Notice).
	operator *operatorEvents
}

// finish computes Ready from the reconcile's outcome, records the observed
// generation unless the outcome is to be retried, and patches status only
// when it changed.
// before is obj as it was fetched; reconcile phases change only obj's
// status, so comparing the two objects compares their status.
func (w *statusWriter) finish(ctx context.Context, before, obj client.Object, f statusFields, err error, synced string) error {
	cond := readyCondition(err, obj.GetGeneration(), synced)
	var old *metav1.Condition
	if c := meta.FindStatusCondition(*f.conditions, cond.Type); c != nil {
		old = c.DeepCopy()
	}
	transition := setReady(f.conditions, cond)
	if !retryable(err) {
		*f.observedGeneration = obj.GetGeneration()
	}
	if equality.Semantic.DeepEqual(before, obj) {
		return nil
	}
	if perr := w.client.Status().Patch(ctx, obj, client.MergeFrom(before)); perr != nil {
		return perr
	}
	if kind := readyEvent(old, cond); kind != "" && w.recorder != nil {
		w.recorder.Eventf(obj, nil, kind, cond.Reason, "Sync", "%s", cond.Message)
	}
	var se *syncError
	if transition && errors.As(err, &se) && se.Notice != "" {
		w.operator.notify(se.Reason, se.Notice)
	}
	return nil
}

// operatorEvents writes Events about objects into the manager's own
// namespace, regarding the manager's Pod, for what only the operator may
// read (a contested name's holder in another namespace).
type operatorEvents struct {
	recorder events.EventRecorder
	pod      *corev1.Pod // the manager's; nil: log only
}

func (o *operatorEvents) notify(reason, msg string) {
	if o == nil || o.pod == nil || o.recorder == nil {
		return
	}
	o.recorder.Eventf(o.pod, nil, corev1.EventTypeWarning, reason, "Sync", "%s", msg)
}
