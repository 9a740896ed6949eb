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
	if err := r.names().claim(ctx, u, existing.Source); err != nil {
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
	now := r.Clock.Now()
	want := records.User(u, cred, existing, now)
	if !records.SameUser(want, existing) {
		if err := r.Store.PutUser(ctx, want); err != nil {
			return storeUnavailable(err)
		}
		log.FromContext(ctx).Info("Credential record written", "username", want.Username)
	}
	u.Status.Username = want.Username
	recordStatus(&u.Status, want, cred.Changed, now)
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

// names is how AuthUsers hold their usernames.
func (r *AuthUserReconciler) names() heldName[*v1alpha1.AuthUser] {
	return heldName[*v1alpha1.AuthUser]{
		kind: "AuthUser", what: "username", conflict: v1alpha1.ReasonUsernameConflict, index: indexUsername,
		newList:    func() client.ObjectList { return &v1alpha1.AuthUserList{} },
		wanted:     (*v1alpha1.AuthUser).EffectiveUsername,
		held:       func(u *v1alpha1.AuthUser) *string { return &u.Status.Username },
		deleteFrom: r.Store.DeleteUserFrom,
		client:     r.Client, locks: r.Names, watched: r.Watched,
	}
}

// releaseAll removes the records this AuthUser owns, for its deletion.
func (r *AuthUserReconciler) releaseAll(ctx context.Context, u *v1alpha1.AuthUser) error {
	if err := r.names().releaseAll(ctx, u); err != nil {
		return err
	}
	log.FromContext(ctx).Info("Credential record removed", "username", u.EffectiveUsername())
	return nil
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
