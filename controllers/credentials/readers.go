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
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
)

// contentReader reads objects of one kind (Secrets, ConfigMaps) without
// caching their contents: the cache holds their metadata only (a metadata
// watch), and contents are read with an uncached GET, only when an
// object's resourceVersion changed. The manager therefore never keeps the
// cluster's Secrets, nor its ConfigMaps, in memory.
//
// The GET asks for the object at the resourceVersion the cache saw, or
// newer: the API server answers that from its own watch cache, where a GET
// without one is a quorum read of etcd. What is read is never older than
// what the reconcile acts on.
type contentReader[T client.Object] struct {
	kind      string // "Secret", "ConfigMap"
	notFound  string // the Ready reason of one that does not exist
	newObject func() T
	cache     client.Reader // the manager's cache: metadata
	api       client.Reader // the API server: contents
	// selector, if set, is the only objects the manager uses; any other is
	// answered as if it did not exist (the cache holds no other either).
	selector labels.Selector
}

// secretReader reads Secrets, restricted to those selector matches.
type secretReader = contentReader[*corev1.Secret]

func newSecretReader(cache, api client.Reader, selector labels.Selector) secretReader {
	return secretReader{kind: "Secret", notFound: v1alpha1.ReasonSecretNotFound, newObject: func() *corev1.Secret { return &corev1.Secret{} },
		cache: cache, api: api, selector: selector}
}

// configMapReader reads ConfigMaps.
type configMapReader = contentReader[*corev1.ConfigMap]

func newConfigMapReader(cache, api client.Reader) configMapReader {
	return configMapReader{kind: "ConfigMap", notFound: v1alpha1.ReasonConfigMapNotFound, newObject: func() *corev1.ConfigMap { return &corev1.ConfigMap{} },
		cache: cache, api: api}
}

// version returns the resourceVersion of the object from the cached
// metadata, or a not-found outcome.
func (s contentReader[T]) version(ctx context.Context, namespace, name string) (string, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(s.kind))
	err := s.cache.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, m)
	if apierrors.IsNotFound(err) {
		return "", failed(s.notFound, "%s %q not found", s.kind, name)
	}
	if err != nil {
		return "", fmt.Errorf("get %s metadata: %w", strings.ToLower(s.kind), err)
	}
	return m.ResourceVersion, nil
}

// get reads the object's contents from the API server, at resourceVersion
// rv (from version) or newer.
func (s contentReader[T]) get(ctx context.Context, namespace, name, rv string) (T, error) {
	obj := s.newObject()
	var none T
	err := s.api.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj,
		&client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: rv}})
	if apierrors.IsNotFound(err) || (err == nil && s.selector != nil && !s.selector.Matches(labels.Set(obj.GetLabels()))) {
		return none, failed(s.notFound, "%s %q not found", s.kind, name)
	}
	if err != nil {
		return none, fmt.Errorf("get %s: %w", strings.ToLower(s.kind), err)
	}
	return obj, nil
}
