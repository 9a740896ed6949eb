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

// Condition types shared by AuthUser and AuthClient.
const (
	// ConditionTypeReady reports whether the object has been validated and
	// synced into the credential store used by the auth server.
	ConditionTypeReady = "Ready"
)

// Condition reasons shared by AuthUser and AuthClient.
const (
	// ReasonSynced means the object was validated and written to the store.
	ReasonSynced = "Synced"
	// ReasonSecretNotFound means a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyMissing means a referenced Secret exists but lacks the key
	// (or the value is empty).
	ReasonSecretKeyMissing = "SecretKeyMissing"
	// ReasonInvalidHash means the password hash is not a supported bcrypt
	// ($2a$/$2b$/$2y$) or argon2id PHC string.
	ReasonInvalidHash = "InvalidHash"
	// ReasonUsernameConflict means another AuthUser holds the same
	// username (case-insensitively); the holder keeps it until it lets it
	// go (deleted or renamed). The message names no object of another
	// namespace; the manager's log and an Event in its own namespace do.
	ReasonUsernameConflict = "UsernameConflict"
	// ReasonClientIDConflict is ReasonUsernameConflict for client IDs.
	ReasonClientIDConflict = "ClientIDConflict"
	// ReasonStoreUnavailable means the credential store could not be reached.
	ReasonStoreUnavailable = "StoreUnavailable"
	// ReasonInvalidSecret means an AuthClient's secret is unusable (too
	// short to be stored as a fast hash).
	ReasonInvalidSecret = "InvalidSecret"
	// ReasonInvalidGroup means a group is reserved ("system:") or malformed
	// (a comma, white space, a control character).
	ReasonInvalidGroup = "InvalidGroup"
	// ReasonReconcileError means a pass of the manager failed for another
	// reason; its log says which.
	ReasonReconcileError = "ReconcileError"
	// ReasonNotAllowed means the TenancyPolicies do not let the object's
	// namespace use its username, client ID, groups, audiences, scopes or
	// the namespace of its ServiceAccount.
	ReasonNotAllowed = "NotAllowed"
	// ReasonTokenTooLarge means the object's claims (a user's username,
	// groups and scopes; a client's ID and audiences) would make access
	// tokens larger than validators accept.
	ReasonTokenTooLarge = "TokenTooLarge"
	// ReasonReservedClientID means the client ID is the built-in public
	// client's, which only an AuthClient in the manager's own namespace
	// may define.
	ReasonReservedClientID = "ReservedClientID"
	// ReasonConfigMapNotFound means the ConfigMap an AuthClient's
	// publicKeys.configMapRef names does not exist.
	ReasonConfigMapNotFound = "ConfigMapNotFound"
	// ReasonConfigMapKeyMissing means that ConfigMap exists but lacks the
	// key (or the value is empty).
	ReasonConfigMapKeyMissing = "ConfigMapKeyMissing"
	// ReasonInvalidPublicKeys means an AuthClient's publicKeys are not a
	// JSON Web Key Set of public signature keys (malformed, too large,
	// without a usable key, or holding private key material).
	ReasonInvalidPublicKeys = "InvalidPublicKeys"
	// ReasonServiceAccountNotFound means the ServiceAccount an AuthClient's
	// serviceAccountRef names does not exist (or is in a namespace the
	// manager does not watch). The registration is kept, matching no
	// ServiceAccount: no token authenticates the client, and those issued
	// before are revoked.
	ReasonServiceAccountNotFound = "ServiceAccountNotFound"
	// ReasonServiceAccountReplaced means the ServiceAccount of that name is
	// not the one serviceAccountRef.uid pins (it was deleted and created
	// again): as for ReasonServiceAccountNotFound, no token authenticates
	// the client until the uid is updated.
	ReasonServiceAccountReplaced = "ServiceAccountReplaced"
)

// Default Secret keys, applied by the API server through +kubebuilder:default
// markers. Consumers that read objects without API server defaulting (e.g.
// loading YAML from disk) should use the KeyOrDefault helpers.
const (
	DefaultPasswordKey     = "password"
	DefaultPasswordHashKey = "passwordHash"
)

// PasswordSecretRef selects a key of a Secret, in the same namespace as the
// AuthUser, that holds the plaintext password.
type PasswordSecretRef struct {
	// name of the Secret in the AuthUser's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret's data holding the plaintext password.
	// +optional
	// +kubebuilder:default=password
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// KeyOrDefault returns Key, or DefaultPasswordKey when Key is empty.
func (r *PasswordSecretRef) KeyOrDefault() string {
	if r == nil || r.Key == "" {
		return DefaultPasswordKey
	}
	return r.Key
}

// PasswordHashSecretRef selects a key of a Secret, in the same namespace as
// the AuthUser, that holds a precomputed password hash: a bcrypt hash
// ($2a$, $2b$ or $2y$) or an argon2id PHC string ($argon2id$v=19$...).
type PasswordHashSecretRef struct {
	// name of the Secret in the AuthUser's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret's data holding the password hash.
	// +optional
	// +kubebuilder:default=passwordHash
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// KeyOrDefault returns Key, or DefaultPasswordHashKey when Key is empty.
func (r *PasswordHashSecretRef) KeyOrDefault() string {
	if r == nil || r.Key == "" {
		return DefaultPasswordHashKey
	}
	return r.Key
}

// AuthUserSpec defines the desired state of AuthUser.
// Exactly one of passwordSecretRef and passwordHashSecretRef must be set.
// +kubebuilder:validation:XValidation:rule="has(self.passwordSecretRef) != has(self.passwordHashSecretRef)",message="exactly one of passwordSecretRef and passwordHashSecretRef must be set"
type AuthUserSpec struct {
	// username used in the OAuth2 password grant. When empty, the AuthUser's
	// metadata.name is used (see EffectiveUsername). Usernames are
	// case-insensitive (tokens carry the lower-case form) and unique across
	// all AuthUsers served by one auth server: the AuthUser that holds a
	// username keeps it until it lets it go.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9._@-]+$`
	Username string `json:"username,omitempty"`

	// passwordSecretRef references a Secret key holding the plaintext password.
	// The controller hashes it before storing. Mutually exclusive with
	// passwordHashSecretRef.
	// +optional
	PasswordSecretRef *PasswordSecretRef `json:"passwordSecretRef,omitempty"`

	// passwordHashSecretRef references a Secret key holding a bcrypt
	// ($2a$/$2b$/$2y$) or argon2id PHC password hash. Mutually exclusive with
	// passwordSecretRef.
	// +optional
	PasswordHashSecretRef *PasswordHashSecretRef `json:"passwordHashSecretRef,omitempty"`

	// scopes the user is allowed to be granted. Each entry is an RFC 6749
	// scope-token. A token request is limited to the intersection of the
	// user's and the client's scopes.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
	Scopes []string `json:"scopes,omitempty"`

	// groups the user belongs to; emitted as the "groups" claim. A group
	// may not start with "system:" (Kubernetes reserves those: system:masters
	// is cluster-admin), nor hold a comma, white space or a control
	// character. A TenancyPolicy may narrow the groups a namespace may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[^,\s\p{Z}\p{C}]+$`
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.lowerAscii().startsWith('system:'))",message="groups starting with system: are reserved by Kubernetes"
	Groups []string `json:"groups,omitempty"`

	// disabled rejects new token requests for this user while set.
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// revokeTokensBefore invalidates every token (access and refresh) issued
	// to this user before the given time.
	// +optional
	RevokeTokensBefore *metav1.Time `json:"revokeTokensBefore,omitempty"`
}

// AuthUserStatus defines the observed state of AuthUser.
type AuthUserStatus struct {
	// conditions represent the current state of the AuthUser. The "Ready"
	// condition reports whether the user is synced into the credential store.
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

	// username is the username whose credential record this AuthUser owns
	// in the store. The controller uses it to remove the record of a
	// previous username when spec.username changes, and on deletion.
	// +optional
	Username string `json:"username,omitempty"`

	// lastLoginTime is when the user last logged in (a password grant that
	// issued tokens), as the token servers recorded it in the store. The
	// manager reflects it at a bounded rate of writes, so it may lag behind
	// the store by up to the manager's --login-state-resolution.
	// +optional
	LastLoginTime *metav1.Time `json:"lastLoginTime,omitempty"`

	// throttle is set while the token servers refuse this user's logins for
	// too many failed or too many attempts (HTTP 429), as they last
	// recorded it; the manager clears it once its time has passed.
	// +optional
	Throttle *AuthUserThrottle `json:"throttle,omitempty"`

	// passwordChangedTime is when the manager last stored a new password
	// (hash) for this user, which ended the tokens issued before it.
	// +optional
	PasswordChangedTime *metav1.Time `json:"passwordChangedTime,omitempty"`

	// tokensNotBefore is the credential record's not-before time: tokens
	// (access and refresh) issued before it are refused. It moves forward on
	// a password change, on disabling the user, to spec.revokeTokensBefore,
	// and when the record is written anew.
	// +optional
	TokensNotBefore *metav1.Time `json:"tokensNotBefore,omitempty"`
}

// The limits of AuthUserThrottle.Limit: the token servers' throttle scopes
// that name a user.
const (
	// ThrottleLimitUserIP is the limit on failures of one user from one
	// address.
	ThrottleLimitUserIP = "user_ip"
	// ThrottleLimitUserRate is the limit on attempts of one user from any
	// address.
	ThrottleLimitUserRate = "user_rate"
)

// AuthUserThrottle is a login throttle in force for a user.
type AuthUserThrottle struct {
	// until is when the user's logins are admitted again: the end of the
	// Retry-After the token server answered.
	// +required
	Until metav1.Time `json:"until"`

	// limit is the limit that refused the logins: user_ip (failures of this
	// user from one address) or user_rate (attempts of this user from any
	// address).
	// +required
	// +kubebuilder:validation:Enum=user_ip;user_rate
	Limit string `json:"limit"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=au,categories=authstack
// +kubebuilder:printcolumn:name="Username",type=string,JSONPath=`.status.username`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Last-Login",type=date,JSONPath=`.status.lastLoginTime`
// +kubebuilder:printcolumn:name="Throttled-Until",type=string,JSONPath=`.status.throttle.until`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// AuthUser is a user that can obtain tokens through the OAuth2 resource
// owner password credentials grant.
type AuthUser struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec defines the desired state of AuthUser.
	// +required
	Spec AuthUserSpec `json:"spec"`

	// status defines the observed state of AuthUser.
	// +optional
	Status AuthUserStatus `json:"status,omitempty"`
}

// EffectiveUsername returns spec.username, or metadata.name when
// spec.username is empty, in its canonical (lower-case) form: usernames are
// unique case-insensitively, and tokens carry this form.
func (u *AuthUser) EffectiveUsername() string {
	if u == nil {
		return ""
	}
	if u.Spec.Username != "" {
		return CanonicalName(u.Spec.Username)
	}
	return CanonicalName(u.Name)
}

// +kubebuilder:object:root=true

// AuthUserList contains a list of AuthUser.
type AuthUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AuthUser `json:"items"`
}
