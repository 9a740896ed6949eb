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

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/authstack/authstack/internal/store"
)

// phases is what reconcileObject needs of the reconciler of one kind.
type phases[T client.Object] interface {
	// sync runs the phases that bring the store in line with obj.
	sync(ctx context.Context, obj T) error
	// releaseAll removes the records obj holds, for its deletion.
	releaseAll(ctx context.Context, obj T) error
	// status points into obj's status, with its Ready message when synced.
	status(obj T) (statusFields, string)
}

// reconcileObject is the reconcile of an AuthUser or an AuthClient, in
// cluster-api's order: fetch; register the one deferred status patch;
// deleting: release, then remove the finalizer; else add the finalizer and
// return (the update brings the object back), or run the phases.
//
// The deferred patch reports the outcome of the phases, or of a release
// that failed (the finalizer stays, and the delete is retried). Adding the
// finalizer reports nothing, nor does a completed deletion: the object is
// gone.
func reconcileObject[T client.Object](ctx context.Context, c client.Client, w statusWriter, kind string,
	key types.NamespacedName, obj T, p phases[T]) (_ ctrl.Result, reterr error) {
	if err := c.Get(ctx, key, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(client.Object)
	var outcome error
	report := false
	defer func() {
		if !report {
			return
		}
		fields, synced := p.status(obj)
		if perr := w.finish(ctx, before, obj, fields, outcome, synced); perr != nil {
			reterr = errors.Join(reterr, perr)
		}
	}()
	if !obj.GetDeletionTimestamp().IsZero() {
		if !controllerutil.ContainsFinalizer(obj, Finalizer) {
			return ctrl.Result{}, nil
		}
		if err := p.releaseAll(ctx, obj); err != nil {
			outcome, report = err, true
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, removeFinalizer(ctx, c, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, addFinalizer(ctx, c, obj)
	}
	outcome, report = p.sync(ctx, obj), true
	logNotSynced(ctx, kind, outcome)
	if retryable(outcome) {
		return ctrl.Result{}, outcome
	}
	return ctrl.Result{}, nil
}

// namePhases is what holdName needs of the reconciler of one kind, whose
// objects hold a name (a username, a client ID) and the record R under it.
type namePhases[T client.Object, R any] interface {
	// names is how obj's kind holds its names: release, rename, claim.
	names() heldName[T]
	// admit checks obj against the rules of its namespace (groups,
	// TenancyPolicies); an error that is refused is a verdict.
	admit(ctx context.Context, obj T) error
	// record reads the record under name.
	record(ctx context.Context, name string) (R, error)
}

// holdName runs the phases both kinds start with. A renamed object gives
// up its old name first, even if the new one turns out to be taken
// (docs/decisions.md). Then it is admitted: one that is not allowed (any
// more) releases the record it held, and its tokens go with it, while a
// failure to tell (the cache) releases nothing. Then the name is locked,
// one reconcile at a time, and its record read: the zero R when there is
// none. The caller unlocks when it is done with the name.
func holdName[T client.Object, R any](ctx context.Context, p namePhases[T, R], locks *nameLocks, obj T, name string) (existing R, unlock func(), err error) {
	if err := p.names().releaseOld(ctx, obj); err != nil {
		return existing, nil, err
	}
	if err := p.admit(ctx, obj); err != nil {
		if refused(err) {
			if rerr := p.names().release(ctx, obj, name); rerr != nil {
				return existing, nil, rerr
			}
		}
		return existing, nil, err
	}
	unlock = locks.lock(name)
	existing, err = p.record(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		var none R
		return none, unlock, nil
	case err != nil:
		unlock()
		return existing, nil, storeUnavailable(err)
	}
	return existing, unlock, nil
}
