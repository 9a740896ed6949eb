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
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// AuthClientReconciler writes the registration of each AuthClient.
type AuthClientReconciler struct {
	Client     client.Client
	Secrets    secretReader
	ConfigMaps configMapReader
	Store      store.Clients
	// Clock is the clock of not-before times.
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	Names    *nameLocks
	Tenancy  tenancy
	Operator *operatorEvents
	Watched  func(namespace string) bool
	// PublicClientID is the token servers' built-in public client, which
	// only an AuthClient in ManagerNamespace may define: it governs every
	// login that names no client. An empty ManagerNamespace lets none.
	PublicClientID   string
	ManagerNamespace string
	resync           chan event.GenericEvent
}

// +kubebuilder:rbac:groups=authstack.dev,resources=authclients,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authclients/status,verbs=get;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authclients/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch

// Reconcile brings the store's registration of one AuthClient in line
// with it.
func (r *AuthClientReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	w := statusWriter{client: r.Client, recorder: r.Recorder, operator: r.Operator}
	return reconcileObject(ctx, r.Client, w, "AuthClient", req.NamespacedName, &v1alpha1.AuthClient{}, r)
}

// status points into the AuthClient's status, with its Ready message when
// synced.
func (r *AuthClientReconciler) status(c *v1alpha1.AuthClient) (statusFields, string) {
	return statusFields{conditions: &c.Status.Conditions, observedGeneration: &c.Status.ObservedGeneration},
		fmt.Sprintf("client %q is registered", c.EffectiveClientID())
}

// sync runs the phases, in the AuthUser reconciler's order; the first
// failure ends the pass.
func (r *AuthClientReconciler) sync(ctx context.Context, c *v1alpha1.AuthClient) error {
	id := c.EffectiveClientID()
	existing, unlock, err := holdName(ctx, r, r.Names, c, id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.names().claim(ctx, c, existing.Source); err != nil {
		if refused(err) && c.Status.ClientID == id {
			c.Status.ClientID = ""
		}
		return err
	}
	cred, verdict, err := r.credential(ctx, c, existing)
	if err != nil {
		return err
	}
	want := records.Client(c, cred, existing, r.Clock.Now())
	if !records.SameClient(want, existing) {
		if err := r.Store.PutClient(ctx, want); err != nil {
			return storeUnavailable(err)
		}
		log.FromContext(ctx).Info("Client registration written", "clientID", want.ID)
	}
	c.Status.ClientID = want.ID
	return verdict
}

// admit checks the client ID against the reserved public client ID and the
// TenancyPolicies, whoever holds it: its client ID, audiences, scopes, and
// the namespace of its ServiceAccount when that is another one.
func (r *AuthClientReconciler) admit(ctx context.Context, c *v1alpha1.AuthClient) error {
	id := c.EffectiveClientID()
	if r.PublicClientID != "" && id == v1alpha1.CanonicalName(r.PublicClientID) &&
		(r.ManagerNamespace == "" || c.Namespace != r.ManagerNamespace) {
		return failed(v1alpha1.ReasonReservedClientID,
			"client ID %q is the built-in public client's, which only an AuthClient in the manager's namespace may define", id)
	}
	if rule := records.CheckClient(c); rule != nil {
		return failed(rule.Reason, "%s", rule.Message)
	}
	all := []uses{{kindClientID, []string{id}}, {kindAudience, c.Spec.Audiences}, {kindScope, c.Spec.Scopes}}
	if ns := c.ServiceAccountNamespace(); ns != "" && ns != c.Namespace {
		all = append(all, uses{kindServiceAccountNamespace, []string{ns}})
	}
	return r.Tenancy.check(ctx, c.Namespace, all...)
}

// names is how AuthClients hold their client IDs.
func (r *AuthClientReconciler) names() heldName[*v1alpha1.AuthClient] {
	return heldName[*v1alpha1.AuthClient]{
		kind: "AuthClient", what: "client ID", conflict: v1alpha1.ReasonClientIDConflict, index: indexClientID,
		newList:    func() client.ObjectList { return &v1alpha1.AuthClientList{} },
		wanted:     (*v1alpha1.AuthClient).EffectiveClientID,
		held:       func(c *v1alpha1.AuthClient) *string { return &c.Status.ClientID },
		deleteFrom: r.Store.DeleteClientFrom,
		client:     r.Client, locks: r.Names, watched: r.Watched,
	}
}

// releaseAll removes the registrations this AuthClient owns, for its
// deletion.
func (r *AuthClientReconciler) releaseAll(ctx context.Context, c *v1alpha1.AuthClient) error {
	return r.names().releaseAll(ctx, c)
}

// SetupWithManager registers the reconciler with mgr.
func (r *AuthClientReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	var err error
	r.resync, err = setupController(mgr, watched{
		name: "authclient", object: &v1alpha1.AuthClient{},
		newList:   func() client.ObjectList { return &v1alpha1.AuthClientList{} },
		nameIndex: indexClientID,
		nameOf:    func(o client.Object) string { return o.(*v1alpha1.AuthClient).EffectiveClientID() },
		inScope:   r.Watched,
		watchMore: r.watchCredentials(mgr.GetClient()),
	}, r, opts)
	return err
}

// Resync enqueues every AuthClient.
func (r *AuthClientReconciler) Resync(ctx context.Context) error {
	return resyncAll(ctx, r.Client, &v1alpha1.AuthClientList{}, r.resync)
}

func (r *AuthClientReconciler) record(ctx context.Context, id string) (store.Client, error) {
	return r.Store.GetClient(ctx, id)
}
