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

package manifest

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// Apply writes the records of every user and client into s. Unlike the
// controller it stops at the first problem: a dev setup should be fixed, not
// half served.
func Apply(ctx context.Context, s store.Store, o *Objects, policy password.Policy) error {
	seen := map[string]string{}
	now := time.Now()
	for i := range o.Users {
		u := &o.Users[i]
		rec, err := userRecord(u, o, policy, now)
		if err != nil {
			return fmt.Errorf("authuser %s/%s: %w", u.Namespace, u.Name, err)
		}
		if prev, dup := seen[rec.Username]; dup {
			return fmt.Errorf("authuser %s/%s: username %q already used by %s", u.Namespace, u.Name, rec.Username, prev)
		}
		seen[rec.Username] = rec.Source
		if err := s.PutUser(ctx, rec); err != nil {
			return err
		}
	}
	for i := range o.Clients {
		c := &o.Clients[i]
		id := c.EffectiveClientID()
		if !v1alpha1.ValidName(id) {
			return fmt.Errorf("authclient %s/%s: invalid client ID %q", c.Namespace, c.Name, id)
		}
		if err := records.CheckClient(c); err != nil {
			return fmt.Errorf("authclient %s/%s: %w", c.Namespace, c.Name, err)
		}
		cred, err := clientCredential(c, o)
		if err != nil {
			return fmt.Errorf("authclient %s/%s: %w", c.Namespace, c.Name, err)
		}
		rec := records.Client(c, cred, store.Client{}, now)
		if err := s.PutClient(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

func userRecord(u *v1alpha1.AuthUser, o *Objects, policy password.Policy, now time.Time) (store.User, error) {
	if name := u.EffectiveUsername(); !v1alpha1.ValidName(name) {
		return store.User{}, fmt.Errorf("invalid username %q", name)
	}
	if err := records.CheckUser(u); err != nil {
		return store.User{}, err // what the manager refuses
	}
	secretName, key, _, err := records.UserSecretRef(u)
	if err != nil {
		return store.User{}, err
	}
	secret := o.Secret(u.Namespace, secretName)
	if secret == nil {
		return store.User{}, fmt.Errorf("secret %s not found", secretName)
	}
	// The manager's derivation, for a store that holds no record yet.
	cred, err := records.ReadCredential(u, secret, store.User{}, policy, records.HashWith(policy.Params))
	switch {
	case errors.Is(err, password.ErrInvalidHash):
		return store.User{}, fmt.Errorf("secret %s/%s key %q: %w", secret.Namespace, secret.Name, key, err)
	case err != nil:
		return store.User{}, err
	}
	return records.User(u, cred, store.User{}, now), nil
}

// clientCredential reads the client's credential from the loaded objects.
// A ServiceAccount is refused: without a cluster there is no account, and
// no token of one, to authenticate the client.
func clientCredential(c *v1alpha1.AuthClient, o *Objects) (records.ClientCredential, error) {
	switch spec := c.Spec; {
	case spec.SecretRef != nil:
		secret := o.Secret(c.Namespace, spec.SecretRef.Name)
		if secret == nil {
			return records.ClientCredential{}, fmt.Errorf("secret %s not found", spec.SecretRef.Name)
		}
		return records.ReadClientSecret(c, secret)
	case spec.PublicKeys != nil:
		var secret *corev1.Secret
		var cm *corev1.ConfigMap
		if ref := spec.PublicKeys.SecretRef; ref != nil {
			if secret = o.Secret(c.Namespace, ref.Name); secret == nil {
				return records.ClientCredential{}, fmt.Errorf("secret %s not found", ref.Name)
			}
		}
		if ref := spec.PublicKeys.ConfigMapRef; ref != nil {
			if cm = o.ConfigMap(c.Namespace, ref.Name); cm == nil {
				return records.ClientCredential{}, fmt.Errorf("configmap %s not found", ref.Name)
			}
		}
		return records.ReadClientKeys(c, secret, cm)
	case spec.ServiceAccountRef != nil:
		return records.ClientCredential{}, errors.New("serviceAccountRef needs a cluster: authstack dev has no ServiceAccounts " +
			"to authenticate the client with (use secretRef or publicKeys in development)")
	}
	return records.ClientCredential{}, nil
}
