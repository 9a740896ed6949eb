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
	"fmt"

	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// AuthUserReconciler writes the credential record of each AuthUser.
type AuthUserReconciler struct {
	Client  client.Client
	Secrets secretReader
	Store   store.Users
	// Params hash plaintext passwords (the server's parameters).
	Params password.Params
	// CostFactor caps a given hash's cost relative to Params (password.Policy).
	CostFactor uint
	// Hashing bounds the hashes run at once (to the cores), so that more
	// reconciles than cores can wait on the API server meanwhile.
	Hashing  *password.Pool
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	// Names serialises the reconciles of one username; Tenancy reads the
	// TenancyPolicies; Operator gets what only the operator may read.
	Names    *nameLocks
	Tenancy  tenancy
	Operator *operatorEvents
	// Watched reports whether the manager watches a namespace: a record
	// written from a namespace it does not watch is held by an object it
	// cannot see.
	Watched func(namespace string) bool
	// resync receives every AuthUser when the store lost its data.
	resync chan event.GenericEvent
}

// +kubebuilder:rbac:groups=authstack.dev,resources=authusers,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authusers/status,verbs=get;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authusers/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=tenancypolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile brings the store's record of one AuthUser in line with it.
func (r *AuthUserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	w := statusWriter{client: r.Client, recorder: r.Recorder, operator: r.Operator}
	return reconcileObject(ctx, r.Client, w, "AuthUser", req.NamespacedName, &v1alpha1.AuthUser{}, r)
}

// status points into the AuthUser's status, with its Ready message when
// synced.
func (r *AuthUserReconciler) status(u *v1alpha1.AuthUser) (statusFields, string) {
	synced := fmt.Sprintf("user %q can log in", u.EffectiveUsername())
	if u.Spec.Disabled {
		synced = fmt.Sprintf("user %q is disabled: logins and tokens are refused", u.EffectiveUsername())
	}
	return statusFields{conditions: &u.Status.Conditions, observedGeneration: &u.Status.ObservedGeneration}, synced
}

// sync runs the phases; the first failure ends the pass.
func (r *AuthUserReconciler) sync(ctx context.Context, u *v1alpha1.AuthUser) error {
	name := u.EffectiveUsername()
	existing, unlock, err := holdName(ctx, r, r.Names, u, name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.claimUsername(ctx, u, existing.Source); err != nil {
		if refused(err) && u.Status.Username == name {
			u.Status.Username = "" // it does not hold the name
		}
		return err
	}
	cred, credErr := r.credential(ctx, u, existing)
	if credErr != nil {
		if retryable(credErr) || existing.Source != records.Source(u) || existing.PasswordHash == "" {
			return credErr
		}
		// The Secret is missing or broken, but the user has a record: keep
		// its last good password, and still apply what the spec says
		// (disabled, revokeTokensBefore, scopes, groups), so that a user can
		// be disabled or logged out whatever state its Secret is in.
		cred = records.Credential{Hash: existing.PasswordHash, Version: existing.SecretVersion}
	}
	want := records.User(u, cred, existing, r.Clock.Now())
	if !records.SameUser(want, existing) {
		if err := r.Store.PutUser(ctx, want); err != nil {
			return storeUnavailable(err)
		}
		log.FromContext(ctx).Info("Credential record written", "username", want.Username)
	}
	u.Status.Username = want.Username
	return credErr
}

// admit checks what the AuthUser may carry, whoever holds its username:
// its groups (never "system:", nor anything a comma-joined list would
// split) and the TenancyPolicies of its namespace.
func (r *AuthUserReconciler) admit(ctx context.Context, u *v1alpha1.AuthUser) error {
	if rule := records.CheckUser(u); rule != nil {
		return failed(rule.Reason, "%s", rule.Message)
	}
	return r.Tenancy.check(ctx, u.Namespace,
		uses{kindUsername, []string{u.EffectiveUsername()}}, uses{kindScope, u.Spec.Scopes}, uses{kindGroup, u.Spec.Groups})
}

// release removes the record of name if this AuthUser wrote it, and stops
// claiming it in its status.
func (r *AuthUserReconciler) release(ctx context.Context, u *v1alpha1.AuthUser, name string) error {
	defer r.Names.lock(name)()
	if err := r.deleteIfOwned(ctx, name, records.Source(u)); err != nil {
		return err
	}
	if u.Status.Username == name {
		u.Status.Username = ""
	}
	return nil
}

// releaseAll removes the records this AuthUser owns, for its deletion.
// While the store is down the finalizer stays and the delete is retried: a
// record is never left behind.
func (r *AuthUserReconciler) releaseAll(ctx context.Context, u *v1alpha1.AuthUser) error {
	for _, name := range ownedNames(u.Status.Username, u.EffectiveUsername()) {
		if err := r.deleteOwned(ctx, name, records.Source(u)); err != nil {
			return err
		}
	}
	log.FromContext(ctx).Info("Credential record removed", "username", u.EffectiveUsername())
	return nil
}

// deleteOwned is deleteIfOwned under the name's lock.
func (r *AuthUserReconciler) deleteOwned(ctx context.Context, username, src string) error {
	defer r.Names.lock(username)()
	return r.deleteIfOwned(ctx, username, src)
}

// deleteIfOwned deletes the record of username when src wrote it: a record
// that another AuthUser holds, or has written meanwhile, is left alone (the
// check and the delete are one atomic store operation).
func (r *AuthUserReconciler) deleteIfOwned(ctx context.Context, username, src string) error {
	if _, err := r.Store.DeleteUserFrom(ctx, username, src); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

// releaseOld removes the record of the username this AuthUser held
// before spec.username changed.
func (r *AuthUserReconciler) releaseOld(ctx context.Context, u *v1alpha1.AuthUser) error {
	old := u.Status.Username
	if old == "" || old == u.EffectiveUsername() {
		return nil
	}
	return r.release(ctx, u, old)
}

// claimUsername refuses the username when another AuthUser holds it
// (nameHolder); record is the source of the store's record of it.
func (r *AuthUserReconciler) claimUsername(ctx context.Context, u *v1alpha1.AuthUser, record string) error {
	name := u.EffectiveUsername()
	cs, err := claimants(ctx, r.Client, &v1alpha1.AuthUserList{}, indexUsername, name, u,
		func(o client.Object) string { return o.(*v1alpha1.AuthUser).Status.Username })
	if err != nil {
		return err
	}
	h, ok := nameHolder(record, visible(record, r.Watched), cs)
	if !ok || h.source == records.Source(u) {
		return nil
	}
	return &syncError{
		Reason:  v1alpha1.ReasonUsernameConflict,
		Message: fmt.Sprintf("username %q is held by another AuthUser", name),
		Notice:  fmt.Sprintf("AuthUser %s claims username %q, which AuthUser %s holds", records.Source(u), name, h.source),
	}
}

// ownedNames lists the distinct non-empty names among names.
func ownedNames(names ...string) []string {
	var out []string
	for _, n := range names {
		if n != "" && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out
}

// SetupWithManager registers the reconciler with mgr.
func (r *AuthUserReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	var err error
	r.resync, err = setupController(mgr, watched{
		name: "authuser", object: &v1alpha1.AuthUser{},
		newList:   func() client.ObjectList { return &v1alpha1.AuthUserList{} },
		nameIndex: indexUsername,
		nameOf:    func(o client.Object) string { return o.(*v1alpha1.AuthUser).EffectiveUsername() },
		inScope:   r.Watched,
	}, r, opts)
	return err
}

// Resync enqueues every AuthUser.
func (r *AuthUserReconciler) Resync(ctx context.Context) error {
	return resyncAll(ctx, r.Client, &v1alpha1.AuthUserList{}, r.resync)
}

func (r *AuthUserReconciler) record(ctx context.Context, name string) (store.User, error) {
	return r.Store.GetUser(ctx, name)
}
