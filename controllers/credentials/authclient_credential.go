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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// credential reads the client's credential, and returns a verdict to
// report with it: a ServiceAccount that is gone or is not the pinned one
// gives a registration that lets no token in, written all the same so
// that the tokens issued before are revoked. An error writes nothing: the
// registration the store holds, if any, stays as it was (a client whose
// Secret went missing keeps its last good credential, as a user does).
func (r *AuthClientReconciler) credential(ctx context.Context, c *v1alpha1.AuthClient, existing store.Client) (cred records.ClientCredential, verdict, err error) {
	switch spec := c.Spec; {
	case spec.SecretRef != nil:
		cred, err = r.secretCredential(ctx, c, existing)
	case spec.PublicKeys != nil:
		cred, err = r.keysCredential(ctx, c, existing)
	case spec.ServiceAccountRef != nil:
		cred, verdict, err = r.serviceAccountCredential(ctx, c)
	}
	return cred, verdict, err
}

// secretCredential reads the client secret, only when its Secret changed
// since the existing registration was written.
func (r *AuthClientReconciler) secretCredential(ctx context.Context, c *v1alpha1.AuthClient, existing store.Client) (records.ClientCredential, error) {
	ref := c.Spec.SecretRef
	sec, kept, err := readChanged(ctx, r.Secrets, c, existing, ref.Name)
	if err != nil || kept != nil {
		return deref(kept), err
	}
	cred, err := records.ReadClientSecret(c, sec)
	switch {
	case errors.Is(err, records.ErrSecretKeyMissing):
		return cred, failed(v1alpha1.ReasonSecretKeyMissing, "Secret %q has no key %q", ref.Name, ref.KeyOrDefault())
	case errors.Is(err, records.ErrWeakClientSecret):
		return cred, failed(v1alpha1.ReasonInvalidSecret, "Secret %q: the client secret must be at least %d characters (for example: openssl rand -hex 32)",
			ref.Name, records.MinClientSecretLength)
	}
	return cred, err
}

// keysCredential reads the key set: inline, or from its Secret or
// ConfigMap when that changed since the existing registration was
// written.
func (r *AuthClientReconciler) keysCredential(ctx context.Context, c *v1alpha1.AuthClient, existing store.Client) (records.ClientCredential, error) {
	pk := c.Spec.PublicKeys
	var sec *corev1.Secret
	var cm *corev1.ConfigMap
	var kept *records.ClientCredential
	var err error
	var where string
	switch {
	case pk.SecretRef != nil:
		where = "Secret " + pk.SecretRef.Name
		sec, kept, err = readChanged(ctx, r.Secrets, c, existing, pk.SecretRef.Name)
	case pk.ConfigMapRef != nil:
		where = "ConfigMap " + pk.ConfigMapRef.Name
		cm, kept, err = readChanged(ctx, r.ConfigMaps, c, existing, pk.ConfigMapRef.Name)
	default:
		where = "spec.publicKeys.jwks"
	}
	if err != nil || kept != nil {
		return deref(kept), err
	}
	cred, err := records.ReadClientKeys(c, sec, cm)
	switch {
	case errors.Is(err, records.ErrSecretKeyMissing):
		return cred, failed(v1alpha1.ReasonSecretKeyMissing, "Secret %q has no key %q", pk.SecretRef.Name, pk.SecretRef.KeyOrDefault())
	case errors.Is(err, records.ErrConfigMapKeyMissing):
		return cred, failed(v1alpha1.ReasonConfigMapKeyMissing, "ConfigMap %q has no key %q", pk.ConfigMapRef.Name, pk.ConfigMapRef.KeyOrDefault())
	case errors.Is(err, records.ErrInvalidPublicKeys):
		return cred, failed(v1alpha1.ReasonInvalidPublicKeys, "%s: %v", where, err)
	}
	return cred, err
}

// readChanged reads the object name with rd, unless the existing
// registration is this AuthClient's and was read from the object at its
// current resourceVersion: then it returns that registration's credential
// instead, and reads nothing.
func readChanged[T client.Object](ctx context.Context, rd contentReader[T], c *v1alpha1.AuthClient, existing store.Client, name string) (T, *records.ClientCredential, error) {
	var none T
	rv, err := rd.version(ctx, c.Namespace, name)
	if err != nil {
		return none, nil, err
	}
	if existing.Source == records.Source(c) && !existing.Public() && existing.SecretVersion == records.ClientVersion(c, rv) {
		kept := records.CredentialOf(existing)
		return none, &kept, nil
	}
	obj, err := rd.get(ctx, c.Namespace, name, rv)
	return obj, nil, err
}

func deref(cred *records.ClientCredential) records.ClientCredential {
	if cred == nil {
		return records.ClientCredential{}
	}
	return *cred
}

// serviceAccountCredential names the ServiceAccount with the UID of the
// one that exists, from the cached metadata; its verdict says why it
// matches no token, if it does not.
func (r *AuthClientReconciler) serviceAccountCredential(ctx context.Context, c *v1alpha1.AuthClient) (records.ClientCredential, error, error) {
	ns, name := c.ServiceAccountNamespace(), c.Spec.ServiceAccountRef.Name
	if r.Watched != nil && !r.Watched(ns) {
		return records.ServiceAccountCredential(c, ""), failed(v1alpha1.ReasonServiceAccountNotFound,
			"ServiceAccount %s/%s: the manager does not watch namespace %q, so no token authenticates the client", ns, name, ns), nil
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, m)
	switch {
	case apierrors.IsNotFound(err):
		m.UID = ""
	case err != nil:
		return records.ClientCredential{}, nil, err
	}
	return records.ServiceAccountCredential(c, string(m.UID)), serviceAccountVerdict(c, string(m.UID)), nil
}

// serviceAccountVerdict is the outcome for a client whose ServiceAccount
// has uid ("" for none): a pure function, table-tested.
func serviceAccountVerdict(c *v1alpha1.AuthClient, uid string) error {
	ns, ref := c.ServiceAccountNamespace(), c.Spec.ServiceAccountRef
	switch {
	case uid == "":
		return failed(v1alpha1.ReasonServiceAccountNotFound, "ServiceAccount %s/%s not found: no token authenticates the client", ns, ref.Name)
	case ref.UID != "" && ref.UID != uid:
		return failed(v1alpha1.ReasonServiceAccountReplaced,
			"ServiceAccount %s/%s has uid %s, not %s as serviceAccountRef.uid pins (it was created again): no token authenticates the client until the uid is updated",
			ns, ref.Name, uid, ref.UID)
	}
	return nil
}

// watchCredentials adds what an AuthClient's credential is read from
// besides Secrets: ConfigMaps and ServiceAccounts, as metadata.
func (r *AuthClientReconciler) watchCredentials(c client.Reader) func(*builder.Builder) *builder.Builder {
	return func(b *builder.Builder) *builder.Builder {
		return b.
			WatchesMetadata(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(readersOf(c, r.list, indexConfigMap))).
			WatchesMetadata(&corev1.ServiceAccount{}, handler.EnqueueRequestsFromMapFunc(accountUsers(c)))
	}
}

func (r *AuthClientReconciler) list() client.ObjectList { return &v1alpha1.AuthClientList{} }
