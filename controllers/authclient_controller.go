package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/records"
	"github.com/authstack/authstack/authserver/store"
)

// ClientStore is the part of the store the AuthClient reconciler needs.
type ClientStore interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
	PutClient(ctx context.Context, c store.Client) error
	DeleteClientFrom(ctx context.Context, id, source string) (bool, error)
}

// AuthClientReconciler writes the registration of each AuthClient.
type AuthClientReconciler struct {
	Client   client.Client
	Secrets  secretReader
	Store    ClientStore
	Recorder events.EventRecorder
	resync   chan event.GenericEvent
}

// +kubebuilder:rbac:groups=authstack.dev,resources=authclients,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authclients/status,verbs=get;patch
// +kubebuilder:rbac:groups=authstack.dev,resources=authclients/finalizers,verbs=update

// Reconcile brings the store's registration of one AuthClient in line.
func (r *AuthClientReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	c := &v1alpha1.AuthClient{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !c.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, c)
	}
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return ctrl.Result{}, addFinalizer(ctx, r.Client, c)
	}
	// One deferred status patch, computed from the outcome of the phases.
	before := c.DeepCopy()
	var err error
	defer func() {
		if perr := r.finish(ctx, before, c, err); perr != nil {
			reterr = errors.Join(reterr, perr)
		}
	}()
	err = r.sync(ctx, c)
	if err != nil {
		log.FromContext(ctx).Info("AuthClient not synced", "reason", readyCondition(err, 0, "").Reason, "error", err.Error())
	}
	if retryable(err) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

func (r *AuthClientReconciler) finish(ctx context.Context, before, c *v1alpha1.AuthClient, err error) error {
	w := statusWriter{client: r.Client, recorder: r.Recorder}
	fields := statusFields{conditions: &c.Status.Conditions, observedGeneration: &c.Status.ObservedGeneration}
	return w.finish(ctx, before, c, fields, err, fmt.Sprintf("client %q is registered", c.EffectiveClientID()))
}

func (r *AuthClientReconciler) sync(ctx context.Context, c *v1alpha1.AuthClient) error {
	if err := r.claimClientID(ctx, c); err != nil {
		return err
	}
	if old := c.Status.ClientID; old != "" && old != c.EffectiveClientID() {
		if err := r.deleteIfOwned(ctx, old, sourceOf(c)); err != nil {
			return err
		}
		c.Status.ClientID = ""
	}
	existing, err := r.Store.GetClient(ctx, c.EffectiveClientID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		existing = store.Client{}
	case err != nil:
		return storeUnavailable(err)
	}
	want, err := r.desired(ctx, c, existing)
	if err != nil {
		return err
	}
	if !sameClient(want, existing) {
		if err := r.Store.PutClient(ctx, want); err != nil {
			return storeUnavailable(err)
		}
		log.FromContext(ctx).Info("Client registration written", "clientID", want.ID)
	}
	c.Status.ClientID = want.ID
	return nil
}

// desired builds the registration; the Secret of a confidential client is
// read only when it changed since the existing registration was written.
func (r *AuthClientReconciler) desired(ctx context.Context, c *v1alpha1.AuthClient, existing store.Client) (store.Client, error) {
	var secret *corev1.Secret
	ref := c.Spec.SecretRef
	if ref != nil {
		rv, err := r.Secrets.version(ctx, c.Namespace, ref.Name)
		if err != nil {
			return store.Client{}, err
		}
		if existing.Source == sourceOf(c) && existing.SecretHash != "" &&
			existing.SecretVersion == fingerprint("clientSecret", ref.Name, ref.KeyOrDefault(), rv) {
			want := clientWithoutSecret(c)
			want.SecretHash, want.SecretVersion = existing.SecretHash, existing.SecretVersion
			return want, nil
		}
		if secret, err = r.Secrets.get(ctx, c.Namespace, ref.Name); err != nil {
			return store.Client{}, err
		}
	}
	want, err := records.Client(c, secret)
	switch {
	case errors.Is(err, records.ErrSecretKeyMissing):
		return store.Client{}, failed(v1alpha1.ReasonSecretKeyMissing, "Secret %q has no key %q", ref.Name, ref.KeyOrDefault())
	case errors.Is(err, records.ErrWeakClientSecret):
		return store.Client{}, failed(v1alpha1.ReasonInvalidSecret, "Secret %q: the client secret must be at least %d characters (for example: openssl rand -hex 32)",
			ref.Name, records.MinClientSecretLength)
	case err != nil:
		return store.Client{}, err
	}
	if secret != nil {
		want.SecretVersion = fingerprint("clientSecret", ref.Name, ref.KeyOrDefault(), secret.ResourceVersion)
	}
	return want, nil
}

// clientWithoutSecret is the registration of c without its secret.
func clientWithoutSecret(c *v1alpha1.AuthClient) store.Client {
	pub := c.DeepCopy()
	pub.Spec.SecretRef = nil
	rec, _ := records.Client(pub, nil) // cannot fail without a secret
	return rec
}

func sameClient(a, b store.Client) bool {
	return a.ID == b.ID && a.SecretHash == b.SecretHash && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Audiences, b.Audiences) &&
		a.AccessTokenTTL == b.AccessTokenTTL && a.RefreshTokenTTL == b.RefreshTokenTTL &&
		a.Source == b.Source && a.SecretVersion == b.SecretVersion
}

func (r *AuthClientReconciler) reconcileDelete(ctx context.Context, c *v1alpha1.AuthClient) error {
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return nil
	}
	for _, id := range ownedNames(c.Status.ClientID, c.EffectiveClientID()) {
		if err := r.deleteIfOwned(ctx, id, sourceOf(c)); err != nil {
			return errors.Join(err, r.finish(ctx, c.DeepCopy(), c, err))
		}
	}
	return removeFinalizer(ctx, r.Client, c)
}

func (r *AuthClientReconciler) deleteIfOwned(ctx context.Context, id, src string) error {
	if _, err := r.Store.DeleteClientFrom(ctx, id, src); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

func (r *AuthClientReconciler) claimClientID(ctx context.Context, c *v1alpha1.AuthClient) error {
	w, err := holder(ctx, r.Client, &v1alpha1.AuthClientList{}, indexClientID, c.EffectiveClientID(), c)
	if err != nil {
		return err
	}
	if w.GetUID() != c.UID {
		return failed(v1alpha1.ReasonClientIDConflict, "client ID %q is held by AuthClient %s/%s, created earlier",
			c.EffectiveClientID(), w.GetNamespace(), w.GetName())
	}
	return nil
}

// SetupWithManager registers the reconciler with mgr.
func (r *AuthClientReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	var err error
	r.resync, err = setupController(mgr, watched{
		name: "authclient", object: &v1alpha1.AuthClient{},
		newList:   func() client.ObjectList { return &v1alpha1.AuthClientList{} },
		nameIndex: indexClientID,
		nameOf:    func(o client.Object) string { return o.(*v1alpha1.AuthClient).EffectiveClientID() },
	}, r, opts)
	return err
}

// Resync enqueues every AuthClient.
func (r *AuthClientReconciler) Resync(ctx context.Context) error {
	return resyncAll(ctx, r.Client, &v1alpha1.AuthClientList{}, r.resync)
}
