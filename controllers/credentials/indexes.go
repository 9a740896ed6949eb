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

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/records"
)

// Field indexes on the manager's cache.
const (
	// indexUsername indexes AuthUsers by effective username (cluster-wide
	// uniqueness).
	indexUsername = "authstack.dev/username"
	// indexClientID indexes AuthClients by effective client ID.
	indexClientID = "authstack.dev/client-id"
	// indexSecret indexes AuthUsers and AuthClients by the name of the
	// Secret they read, so a Secret's change maps to its readers.
	indexSecret = "authstack.dev/secret"
	// indexConfigMap indexes AuthClients by the name of the ConfigMap
	// their public keys are in.
	indexConfigMap = "authstack.dev/configmap"
	// indexServiceAccount indexes AuthClients by the "namespace/name" of
	// their ServiceAccount, which may be in another namespace.
	indexServiceAccount = "authstack.dev/serviceaccount"
)

// serviceAccountKey is the indexServiceAccount value of a ServiceAccount.
func serviceAccountKey(namespace, name string) string { return namespace + "/" + name }

// setupIndexes registers the field indexes the reconcilers list by.
func setupIndexes(ctx context.Context, mgr manager.Manager) error {
	fi := mgr.GetFieldIndexer()
	if err := fi.IndexField(ctx, &v1alpha1.AuthUser{}, indexUsername, func(o client.Object) []string {
		return []string{o.(*v1alpha1.AuthUser).EffectiveUsername()}
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.AuthUser{}, indexSecret, func(o client.Object) []string {
		if name, _, _, err := records.UserSecretRef(o.(*v1alpha1.AuthUser)); err == nil {
			return []string{name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.AuthClient{}, indexClientID, func(o client.Object) []string {
		return []string{o.(*v1alpha1.AuthClient).EffectiveClientID()}
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.AuthClient{}, indexSecret, func(o client.Object) []string {
		switch spec := o.(*v1alpha1.AuthClient).Spec; {
		case spec.SecretRef != nil:
			return []string{spec.SecretRef.Name}
		case spec.PublicKeys != nil && spec.PublicKeys.SecretRef != nil:
			return []string{spec.PublicKeys.SecretRef.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := fi.IndexField(ctx, &v1alpha1.AuthClient{}, indexConfigMap, func(o client.Object) []string {
		if pk := o.(*v1alpha1.AuthClient).Spec.PublicKeys; pk != nil && pk.ConfigMapRef != nil {
			return []string{pk.ConfigMapRef.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return fi.IndexField(ctx, &v1alpha1.AuthClient{}, indexServiceAccount, func(o client.Object) []string {
		c := o.(*v1alpha1.AuthClient)
		if ref := c.Spec.ServiceAccountRef; ref != nil {
			return []string{serviceAccountKey(c.ServiceAccountNamespace(), ref.Name)}
		}
		return nil
	})
}
