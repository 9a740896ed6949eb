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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

// statusWriter patches status once per reconcile and emits an Event for each
// transition of Ready, so every outcome is reported the same way.
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
	if transition && w.recorder != nil {
		kind := corev1.EventTypeNormal
		if cond.Status != metav1.ConditionTrue {
			kind = corev1.EventTypeWarning
		}
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
