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

package records

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

// ClientCredential is how an AuthClient authenticates, as its
// registration holds it: by a secret (SecretHash), by assertions signed
// with the keys of a JWK Set (JWKS, compact JSON), or by the tokens of a
// ServiceAccount; none of them for a public client.
type ClientCredential struct {
	SecretHash     string
	JWKS           string
	ServiceAccount *store.ServiceAccount
	// Version is the fingerprint of what the credential was read from
	// (ClientVersion): the manager reads it again only when that changed.
	Version string
}

// CredentialOf is the credential the registration rec holds.
func CredentialOf(rec store.Client) ClientCredential {
	return ClientCredential{SecretHash: rec.SecretHash, JWKS: rec.JWKS, ServiceAccount: rec.ServiceAccount, Version: rec.SecretVersion}
}

// sameAs reports whether the credential authenticates exactly as the one
// rec holds, wherever either was read from.
func (cr ClientCredential) sameAs(rec store.Client) bool {
	return cr.SecretHash == rec.SecretHash && cr.JWKS == rec.JWKS && sameServiceAccount(cr.ServiceAccount, rec.ServiceAccount)
}

func sameServiceAccount(a, b *store.ServiceAccount) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

// ClientVersion is the fingerprint of the credential of c as read at
// version: the resourceVersion of the Secret or ConfigMap it names, or
// the UID of its ServiceAccount ("" while none exists). An inline key set
// is always "jwks:inline" (its text is in the spec, compared as it is); a
// public client's is empty.
func ClientVersion(c *v1alpha1.AuthClient, version string) string {
	switch spec := c.Spec; {
	case spec.SecretRef != nil:
		return Fingerprint("clientSecret", spec.SecretRef.Name, spec.SecretRef.KeyOrDefault(), version)
	case spec.PublicKeys != nil && spec.PublicKeys.SecretRef != nil:
		ref := spec.PublicKeys.SecretRef
		return Fingerprint("jwksSecret", ref.Name, ref.KeyOrDefault(), version)
	case spec.PublicKeys != nil && spec.PublicKeys.ConfigMapRef != nil:
		ref := spec.PublicKeys.ConfigMapRef
		return Fingerprint("jwksConfigMap", ref.Name, ref.KeyOrDefault(), version)
	case spec.PublicKeys != nil:
		return "jwks:inline"
	case spec.ServiceAccountRef != nil:
		return "serviceAccount:" + c.ServiceAccountNamespace() + "/" + spec.ServiceAccountRef.Name + "@" + version
	}
	return ""
}

// ReadClientSecret reads the client secret of c, a client with
// spec.secretRef, from sec: an error wrapping ErrSecretKeyMissing or
// ErrWeakClientSecret when it is not there or too short.
func ReadClientSecret(c *v1alpha1.AuthClient, sec *corev1.Secret) (ClientCredential, error) {
	value, err := SecretValue(sec, c.Spec.SecretRef.KeyOrDefault())
	if err != nil {
		return ClientCredential{}, err
	}
	if len(value) < MinClientSecretLength {
		return ClientCredential{}, fmt.Errorf("%w: secret %s/%s holds %d characters, at least %d are required (for example: openssl rand -hex 32)",
			ErrWeakClientSecret, sec.Namespace, sec.Name, len(value), MinClientSecretLength)
	}
	return ClientCredential{SecretHash: store.HashClientSecret(value), Version: ClientVersion(c, sec.ResourceVersion)}, nil
}

// ReadClientKeys reads the key set of c, a client with spec.publicKeys:
// inline, or from sec or cm, whichever spec.publicKeys names (the other is
// not used). The error wraps ErrSecretKeyMissing, ErrConfigMapKeyMissing
// or ErrInvalidPublicKeys (ClientJWKS).
func ReadClientKeys(c *v1alpha1.AuthClient, sec *corev1.Secret, cm *corev1.ConfigMap) (ClientCredential, error) {
	pk := c.Spec.PublicKeys
	text, version := pk.JWKS, ""
	var err error
	switch {
	case pk.SecretRef != nil:
		text, err = SecretValue(sec, pk.SecretRef.KeyOrDefault())
		version = sec.ResourceVersion
	case pk.ConfigMapRef != nil:
		text, err = ConfigMapValue(cm, pk.ConfigMapRef.KeyOrDefault())
		version = cm.ResourceVersion
	}
	if err != nil {
		return ClientCredential{}, err
	}
	jwks, err := ClientJWKS(text)
	if err != nil {
		return ClientCredential{}, err
	}
	return ClientCredential{JWKS: jwks, Version: ClientVersion(c, version)}, nil
}

// ServiceAccountCredential is the credential of c, a client with
// spec.serviceAccountRef, whose ServiceAccount has uid ("" when none of
// that name exists). Its UID is empty too when spec.serviceAccountRef.uid
// pins another: a registration without a UID matches no token, so the
// client fails closed.
func ServiceAccountCredential(c *v1alpha1.AuthClient, uid string) ClientCredential {
	ref := c.Spec.ServiceAccountRef
	sa := &store.ServiceAccount{Namespace: c.ServiceAccountNamespace(), Name: ref.Name, UID: uid}
	if ref.UID != "" && ref.UID != uid {
		sa.UID = ""
	}
	return ClientCredential{ServiceAccount: sa, Version: ClientVersion(c, uid)}
}

// Client is the registration of c: a pure function of the AuthClient, its
// credential (ClientCredential{} for a public client), the registration
// the store holds of its client ID (store.Client{} for none) and the time.
//
// Its NotBefore, which refuses the tokens issued to the client itself
// (client_credentials), only moves forward, as a user's does, so nothing
// revoked comes back: a new registration (none, or another resource's)
// starts at now; this AuthClient's keeps its not-before unless the
// credential changed (another secret, key set, kind of credential, or
// ServiceAccount UID, including to none), which moves it to now.
func Client(c *v1alpha1.AuthClient, cred ClientCredential, existing store.Client, now time.Time) store.Client {
	rec := store.Client{
		ID:             c.EffectiveClientID(),
		GrantTypes:     nonEmpty(c.EffectiveGrantTypes()),
		Scopes:         nonEmpty(c.Spec.Scopes),
		Audiences:      nonEmpty(c.Spec.Audiences),
		Source:         Source(c),
		SecretHash:     cred.SecretHash,
		JWKS:           cred.JWKS,
		SecretVersion:  cred.Version,
		ServiceAccount: cred.ServiceAccount,
		NotBefore:      forward(existing.NotBefore, now),
	}
	if existing.Source == rec.Source && existing.ID == rec.ID && cred.sameAs(existing) {
		rec.NotBefore = existing.NotBefore
	}
	if cred.ServiceAccount != nil {
		sa := *cred.ServiceAccount
		rec.ServiceAccount = &sa
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
	return rec
}

// SameClient compares registrations as the store returns them.
func SameClient(a, b store.Client) bool {
	return a.ID == b.ID && a.SecretHash == b.SecretHash && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Audiences, b.Audiences) &&
		a.AccessTokenTTL == b.AccessTokenTTL && a.RefreshTokenTTL == b.RefreshTokenTTL &&
		a.SessionMaxLifetime == b.SessionMaxLifetime &&
		a.Source == b.Source && a.SecretVersion == b.SecretVersion &&
		a.JWKS == b.JWKS && sameServiceAccount(a.ServiceAccount, b.ServiceAccount) && a.NotBefore.Equal(b.NotBefore)
}
