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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
)

// secretReader reads Secrets without caching their contents: the cache
// holds Secret metadata only (a metadata watch), and contents are read with
// an uncached GET, only when a Secret's resourceVersion changed. The manager
// therefore never keeps the cluster's Secrets in memory.
type secretReader struct {
	cache client.Reader // the manager's cache: metadata
	api   client.Reader // the API server: contents
	// selector, if set, is the only Secrets the manager uses; any other is
	// answered as if it did not exist (the cache holds no other either).
	selector labels.Selector
}

// version returns the resourceVersion of the Secret from the cached
// metadata, or a SecretNotFound outcome.
func (s secretReader) version(ctx context.Context, namespace, name string) (string, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := s.cache.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, m)
	if apierrors.IsNotFound(err) {
		return "", failed(v1alpha1.ReasonSecretNotFound, "Secret %q not found", name)
	}
	if err != nil {
		return "", fmt.Errorf("get secret metadata: %w", err)
	}
	return m.ResourceVersion, nil
}

// get reads the Secret's contents from the API server.
func (s secretReader) get(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	err := s.api.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, sec)
	if apierrors.IsNotFound(err) || (err == nil && s.selector != nil && !s.selector.Matches(labels.Set(sec.Labels))) {
		return nil, failed(v1alpha1.ReasonSecretNotFound, "Secret %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get secret: %w", err)
	}
	return sec, nil
}
