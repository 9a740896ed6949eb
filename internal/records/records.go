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

// Package records turns AuthUser and AuthClient resources, with the Secrets,
// ConfigMaps and ServiceAccounts they reference, into the store's
// credential records. The manager and the
// dev server both use it, so a record means the same thing whichever wrote
// it: the manager passes the record the store holds, the dev server none.
package records

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
)

// MinClientSecretLength is the shortest client secret accepted. Secrets are
// stored as a fast hash, which only protects values too random to guess:
// 32 random characters carry at least 128 bits (hex) and about 190 (base64url).
const MinClientSecretLength = 32

// ErrWeakClientSecret reports a client secret shorter than the minimum.
var ErrWeakClientSecret = errors.New("client secret too short")

// ErrSecretKeyMissing reports a Secret without the referenced key (or with
// an empty value under it).
var ErrSecretKeyMissing = errors.New("secret key missing")

// ErrConfigMapKeyMissing is ErrSecretKeyMissing for a ConfigMap.
var ErrConfigMapKeyMissing = errors.New("configmap key missing")

// Source names the resource a record came from: "namespace/name".
func Source(o metav1.Object) string { return o.GetNamespace() + "/" + o.GetName() }

// Fingerprint names what a record was built from: which Secret and key, how
// the value was read, and the Secret's resourceVersion. A record whose
// fingerprint matches needs no new read or hash.
func Fingerprint(kind, name, key, resourceVersion string) string {
	return kind + ":" + name + "/" + key + "@" + resourceVersion
}

// SecretValue returns the value under key, honouring stringData the way the
// API server does when it stores a Secret (stringData wins over data).
func SecretValue(s *corev1.Secret, key string) (string, error) {
	if v, ok := s.StringData[key]; ok && v != "" {
		return v, nil
	}
	if v, ok := s.Data[key]; ok && len(v) > 0 {
		return string(v), nil
	}
	return "", fmt.Errorf("%w: secret %s/%s has no key %q", ErrSecretKeyMissing, s.Namespace, s.Name, key)
}

// ConfigMapValue returns the value under key, from data or binaryData.
func ConfigMapValue(cm *corev1.ConfigMap, key string) (string, error) {
	if v, ok := cm.Data[key]; ok && v != "" {
		return v, nil
	}
	if v, ok := cm.BinaryData[key]; ok && len(v) > 0 {
		return string(v), nil
	}
	return "", fmt.Errorf("%w: configmap %s/%s has no key %q", ErrConfigMapKeyMissing, cm.Namespace, cm.Name, key)
}

// UserSecretRef returns the name and key of the Secret an AuthUser reads,
// and whether it holds a hash (true) or a plaintext password (false).
func UserSecretRef(u *v1alpha1.AuthUser) (name, key string, isHash bool, err error) {
	switch ref, hashRef := u.Spec.PasswordSecretRef, u.Spec.PasswordHashSecretRef; {
	case ref != nil && hashRef == nil:
		return ref.Name, ref.KeyOrDefault(), false, nil
	case hashRef != nil && ref == nil:
		return hashRef.Name, hashRef.KeyOrDefault(), true, nil
	}
	return "", "", false, errors.New("exactly one of passwordSecretRef and passwordHashSecretRef must be set")
}
