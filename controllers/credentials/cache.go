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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions returns the manager cache settings the controllers need:
// every cached object loses its managedFields, and the Secret metadata the
// controllers watch keeps only identity and resourceVersion. A Secret's
// annotations can hold its data (kubectl apply's last-applied-configuration
// holds stringData in clear), so they are dropped before they are stored.
//
// With a secrets selector, only the Secrets it matches are watched (and
// read: see secretReader), so whoever may create an AuthUser but not read
// Secrets cannot make the manager act on, or report about, any other.
func CacheOptions(base cache.Options, secrets labels.Selector) cache.Options {
	base.DefaultTransform = stripObject
	if secrets != nil && !secrets.Empty() {
		if base.ByObject == nil {
			base.ByObject = map[client.Object]cache.ByObject{}
		}
		base.ByObject[&corev1.Secret{}] = cache.ByObject{Label: secrets}
	}
	return base
}

// stripObject is the cache transform. The objects watched as metadata are
// Secrets, ConfigMaps and ServiceAccounts, which keep only their identity
// (a ServiceAccount's UID is what a client's registration names), and
// Namespaces, which keep their labels too (TenancyPolicies select
// namespaces by label).
func stripObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		var keep map[string]string
		if o.Namespace == "" { // cluster-scoped: a Namespace
			keep = o.Labels
		}
		o.ObjectMeta = metav1.ObjectMeta{
			Name: o.Name, Namespace: o.Namespace, UID: o.UID,
			ResourceVersion: o.ResourceVersion, Generation: o.Generation,
			CreationTimestamp: o.CreationTimestamp, DeletionTimestamp: o.DeletionTimestamp,
			Labels: keep,
		}
	case metav1.Object:
		o.SetManagedFields(nil)
	}
	return obj, nil
}
