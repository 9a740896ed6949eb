package controllers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// CacheOptions returns the manager cache settings the controllers need:
// every cached object loses its managedFields, and the Secret metadata the
// controllers watch keeps only identity and resourceVersion. A Secret's
// annotations can hold its data (kubectl apply's last-applied-configuration
// holds stringData in clear), so they are dropped before they are stored.
func CacheOptions(base cache.Options) cache.Options {
	base.DefaultTransform = stripObject
	return base
}

// stripObject is the cache transform. The only objects watched as metadata
// are Secrets.
func stripObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		o.ObjectMeta = metav1.ObjectMeta{
			Name: o.Name, Namespace: o.Namespace, UID: o.UID,
			ResourceVersion: o.ResourceVersion, Generation: o.Generation,
			CreationTimestamp: o.CreationTimestamp, DeletionTimestamp: o.DeletionTimestamp,
		}
	case metav1.Object:
		o.SetManagedFields(nil)
	}
	return obj, nil
}
