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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Grant types supported by AuthClient.spec.grantTypes.
const (
	GrantTypePassword          = "password"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeClientCredentials = "client_credentials"
)

// DefaultClientSecretKey is the default key of ClientSecretRef.
const DefaultClientSecretKey = "clientSecret"

// DefaultJWKSKey is the default key of a PublicKeysRef.
const DefaultJWKSKey = "jwks.json"

// MaxJWKSBytes bounds a client's key set, inline or referenced.
const MaxJWKSBytes = 65536

// DefaultGrantTypes returns the grant types applied when spec.grantTypes is
// unset.
func DefaultGrantTypes() []string {
	return []string{GrantTypePassword, GrantTypeRefreshToken}
}

// ClientSecretRef selects a key of a Secret, in the same namespace as the
// AuthClient, that holds the client secret.
type ClientSecretRef struct {
	// name of the Secret in the AuthClient's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret's data holding the client secret.
	// +optional
	// +kubebuilder:default=clientSecret
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// KeyOrDefault returns Key, or DefaultClientSecretKey when Key is empty.
func (r *ClientSecretRef) KeyOrDefault() string {
	if r == nil || r.Key == "" {
		return DefaultClientSecretKey
	}
	return r.Key
}

// PublicKeysRef selects a key of a Secret or ConfigMap, in the same
// namespace as the AuthClient, that holds a JSON Web Key Set.
type PublicKeysRef struct {
	// name of the Secret or ConfigMap in the AuthClient's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key holding the JSON Web Key Set.
	// +optional
	// +kubebuilder:default=jwks.json
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// KeyOrDefault returns Key, or DefaultJWKSKey when Key is empty.
func (r *PublicKeysRef) KeyOrDefault() string {
	if r == nil || r.Key == "" {
		return DefaultJWKSKey
	}
	return r.Key
}

// ClientPublicKeys are the public keys whose signed assertions
// authenticate the client (private_key_jwt: RFC 7523 §2.2, OpenID Connect
// Core §9): a JSON Web Key Set (RFC 7517), given inline or in a Secret or
// ConfigMap. Exactly one of the three is set.
// +kubebuilder:validation:XValidation:rule="[has(self.jwks), has(self.secretRef), has(self.configMapRef)].filter(x, x).size() == 1",message="exactly one of jwks, secretRef and configMapRef must be set"
type ClientPublicKeys struct {
	// jwks is the JSON Web Key Set itself.
	// +optional
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=65536
	JWKS string `json:"jwks,omitempty"`

	// secretRef selects a Secret key holding the JSON Web Key Set.
	// +optional
	SecretRef *PublicKeysRef `json:"secretRef,omitempty"`

	// configMapRef selects a ConfigMap key holding the JSON Web Key Set.
	// +optional
	ConfigMapRef *PublicKeysRef `json:"configMapRef,omitempty"`
}

// ServiceAccountRef names the Kubernetes ServiceAccount whose tokens
// authenticate the client.
type ServiceAccountRef struct {
	// namespace of the ServiceAccount; the AuthClient's when empty. The
	// tenancy policies decide which namespaces an AuthClient may name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// name of the ServiceAccount.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// uid, when set, pins the one ServiceAccount of that name whose tokens
	// are accepted: one deleted and created again is refused until the uid
	// is updated. When empty, the ServiceAccount of that name is accepted,
	// and a change of its uid revokes every token issued before it.
	// +optional
	// +kubebuilder:validation:MaxLength=36
	UID string `json:"uid,omitempty"`
}

// AuthClientSpec defines the desired state of AuthClient.
// +kubebuilder:validation:XValidation:rule="[has(self.secretRef), has(self.publicKeys), has(self.serviceAccountRef)].filter(x, x).size() <= 1",message="at most one of secretRef, publicKeys and serviceAccountRef may be set"
// +kubebuilder:validation:XValidation:rule="!has(self.grantTypes) || !('client_credentials' in self.grantTypes) || has(self.secretRef) || has(self.publicKeys) || has(self.serviceAccountRef)",message="the client_credentials grant needs a confidential client: set secretRef, publicKeys or serviceAccountRef"
type AuthClientSpec struct {
	// clientID used by the client to authenticate. When empty, the
	// AuthClient's metadata.name is used (see EffectiveClientID). Client IDs
	// are case-insensitive (tokens carry the lower-case form) and unique
	// across all AuthClients served by one auth server: the AuthClient that
	// holds one keeps it until it lets it go. The built-in public client's
	// ID ("default") may only be used by an AuthClient in the manager's own
	// namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9._@-]+$`
	ClientID string `json:"clientID,omitempty"`

	// secretRef references the Secret key holding the client secret. When
	// absent the client is a public client and authenticates with its
	// client_id only.
	// +optional
	SecretRef *ClientSecretRef `json:"secretRef,omitempty"`

	// publicKeys authenticate the client by assertions signed with the
	// matching private keys (private_key_jwt) instead of a secret.
	// +optional
	PublicKeys *ClientPublicKeys `json:"publicKeys,omitempty"`

	// serviceAccountRef authenticates the client by the Kubernetes
	// ServiceAccount tokens of that account (a pod's projected token, with
	// the auth server's issuer as its audience) instead of a secret.
	// +optional
	ServiceAccountRef *ServiceAccountRef `json:"serviceAccountRef,omitempty"`

	// grantTypes the client may use. client_credentials (RFC 6749 §4.4)
	// issues tokens to the client itself, and needs a confidential client.
	// +optional
	// +listType=set
	// +kubebuilder:default={"password","refresh_token"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:Enum=password;refresh_token;client_credentials
	GrantTypes []string `json:"grantTypes,omitempty"`

	// scopes the client may request. Each entry is an RFC 6749 scope-token.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
	Scopes []string `json:"scopes,omitempty"`

	// audiences placed in the "aud" claim of access tokens issued to this
	// client.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	Audiences []string `json:"audiences,omitempty"`

	// accessTokenTTL overrides the server's default access token lifetime
	// (Go duration string, e.g. "15m"). The server caps it
	// (--max-access-token-ttl, at most 24h).
	// +optional
	AccessTokenTTL *metav1.Duration `json:"accessTokenTTL,omitempty"`

	// refreshTokenTTL overrides the server's default refresh token lifetime
	// (Go duration string, e.g. "720h"). The server caps it
	// (--max-refresh-token-ttl).
	// +optional
	RefreshTokenTTL *metav1.Duration `json:"refreshTokenTTL,omitempty"`

	// sessionMaxLifetime bounds a session (a login and the refreshes that
	// follow it) after the login, whatever its refreshes: the user enters
	// the password again after it. The server's --max-session-lifetime
	// when unset, and at most that.
	// +optional
	SessionMaxLifetime *metav1.Duration `json:"sessionMaxLifetime,omitempty"`
}

// AuthClientStatus defines the observed state of AuthClient.
type AuthClientStatus struct {
	// conditions represent the current state of the AuthClient. The "Ready"
	// condition reports whether the client is synced into the credential
	// store.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// observedGeneration is the most recent metadata.generation observed by
	// the controller.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// clientID is the client ID whose registration this AuthClient owns in
	// the store, so that a renamed client's old registration is removed.
	// +optional
	ClientID string `json:"clientID,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ac,categories=authstack
// +kubebuilder:printcolumn:name="ClientID",type=string,JSONPath=`.status.clientID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// AuthClient is an OAuth2 client allowed to request tokens from the auth
// server.
type AuthClient struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec defines the desired state of AuthClient.
	// +required
	Spec AuthClientSpec `json:"spec"`

	// status defines the observed state of AuthClient.
	// +optional
	Status AuthClientStatus `json:"status,omitempty"`
}

// EffectiveClientID returns spec.clientID, or metadata.name when
// spec.clientID is empty, in its canonical (lower-case) form.
func (c *AuthClient) EffectiveClientID() string {
	if c == nil {
		return ""
	}
	if c.Spec.ClientID != "" {
		return CanonicalName(c.Spec.ClientID)
	}
	return CanonicalName(c.Name)
}

// IsPublic reports whether the client has no credential: no secret, no
// public keys and no ServiceAccount.
func (c *AuthClient) IsPublic() bool {
	return c == nil || (c.Spec.SecretRef == nil && c.Spec.PublicKeys == nil && c.Spec.ServiceAccountRef == nil)
}

// ServiceAccountNamespace is the namespace of spec.serviceAccountRef: its
// own, or the AuthClient's.
func (c *AuthClient) ServiceAccountNamespace() string {
	if c == nil || c.Spec.ServiceAccountRef == nil {
		return ""
	}
	if ns := c.Spec.ServiceAccountRef.Namespace; ns != "" {
		return ns
	}
	return c.Namespace
}

// EffectiveGrantTypes returns spec.grantTypes, or DefaultGrantTypes when the
// list is empty (e.g. when the object was not defaulted by the API server).
func (c *AuthClient) EffectiveGrantTypes() []string {
	if c == nil || len(c.Spec.GrantTypes) == 0 {
		return DefaultGrantTypes()
	}
	return c.Spec.GrantTypes
}

// +kubebuilder:object:root=true

// AuthClientList contains a list of AuthClient.
type AuthClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AuthClient `json:"items"`
}
