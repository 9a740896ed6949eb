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
	GrantTypePassword     = "password"
	GrantTypeRefreshToken = "refresh_token"
)

// DefaultClientSecretKey is the default key of ClientSecretRef.
const DefaultClientSecretKey = "clientSecret"

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

// AuthClientSpec defines the desired state of AuthClient.
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

	// grantTypes the client may use.
	// +optional
	// +listType=set
	// +kubebuilder:default={"password","refresh_token"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=password;refresh_token
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

// IsPublic reports whether the client has no secret (spec.secretRef unset).
func (c *AuthClient) IsPublic() bool {
	return c == nil || c.Spec.SecretRef == nil
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
