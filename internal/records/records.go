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

// Package records turns AuthUser and AuthClient resources, with the Secrets
// they reference, into the store's credential records. The manager and the
// dev server both use it, so a record means the same thing whichever wrote
// it: the manager passes the record the store holds, the dev server none.
package records

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
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

// Client builds the record of c, for the manager and for authstack dev
// alike. secret is nil for a public client; for a confidential one the
// record's SecretVersion is the fingerprint of the secret's key and
// resourceVersion, so that the manager reads the Secret again only when it
// changed.
func Client(c *v1alpha1.AuthClient, secret *corev1.Secret) (store.Client, error) {
	rec := store.Client{
		ID:         c.EffectiveClientID(),
		GrantTypes: c.EffectiveGrantTypes(),
		Scopes:     nonEmpty(c.Spec.Scopes),
		Audiences:  nonEmpty(c.Spec.Audiences),
		Source:     Source(c),
	}
	if c.Spec.AccessTokenTTL != nil {
		rec.AccessTokenTTL = c.Spec.AccessTokenTTL.Duration
	}
	if c.Spec.RefreshTokenTTL != nil {
		rec.RefreshTokenTTL = c.Spec.RefreshTokenTTL.Duration
	}
	if c.Spec.SessionMaxLifetime != nil {
		rec.SessionMaxLifetime = c.Spec.SessionMaxLifetime.Duration
	}
	if c.Spec.SecretRef == nil {
		return rec, nil
	}
	if secret == nil {
		return store.Client{}, fmt.Errorf("client %s/%s: secret %s not given", c.Namespace, c.Name, c.Spec.SecretRef.Name)
	}
	value, err := SecretValue(secret, c.Spec.SecretRef.KeyOrDefault())
	if err != nil {
		return store.Client{}, err
	}
	if len(value) < MinClientSecretLength {
		return store.Client{}, fmt.Errorf("%w: secret %s/%s holds %d characters, at least %d are required (for example: openssl rand -hex 32)",
			ErrWeakClientSecret, secret.Namespace, secret.Name, len(value), MinClientSecretLength)
	}
	rec.SecretHash = store.HashClientSecret(value)
	rec.SecretVersion = ClientSecretVersion(c, secret.ResourceVersion)
	return rec, nil
}

// ClientSecretVersion is the SecretVersion of the record of c, a
// confidential client, whose Secret has resourceVersion.
func ClientSecretVersion(c *v1alpha1.AuthClient, resourceVersion string) string {
	ref := c.Spec.SecretRef
	return Fingerprint("clientSecret", ref.Name, ref.KeyOrDefault(), resourceVersion)
}
