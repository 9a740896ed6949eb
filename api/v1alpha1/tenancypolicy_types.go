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

// NamespaceSelection picks namespaces by name, by label, or both (a
// namespace is selected when either picks it). An empty selection picks
// none; `selector: {}` picks every namespace.
type NamespaceSelection struct {
	// names of the namespaces picked.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	Names []string `json:"names,omitempty"`

	// selector picks the namespaces whose labels match it.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// TenancyPolicySpec lets the namespaces it selects use the usernames,
// client IDs, groups, audiences, scopes and ServiceAccount namespaces its
// patterns match, and reserves them for those namespaces.
//
// Patterns are globs in which "*" matches any run of characters and
// everything else matches itself, compared case-insensitively. A pattern's
// specificity is its number of characters other than "*".
//
// With no TenancyPolicy at all, any namespace may use any name that no
// other object holds (a single-team cluster). Once policies exist, for a
// value of one kind:
//   - a namespace selected by one or more policies may use it only if one
//     of them matches it, and no policy that does not select the namespace
//     matches it with a more specific pattern (so "*" for team-b does not
//     reach what "*@team-a.example" reserves for team-a; two policies
//     listing the same value share it);
//   - a namespace selected by none may use it only if no policy matches it.
//
// A policy that selects a namespace defines all it may use: a kind it
// lists nothing of is a kind the namespace may use nothing of (unless
// another policy selecting it does). A refused object reports Ready=False
// with reason NotAllowed, and the record it held is removed (its tokens
// stop working).
type TenancyPolicySpec struct {
	// namespaces this policy applies to.
	// +required
	Namespaces NamespaceSelection `json:"namespaces"`

	// usernames (patterns) the selected namespaces' AuthUsers may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z0-9._@*-]+$`
	Usernames []string `json:"usernames,omitempty"`

	// clientIDs (patterns) the selected namespaces' AuthClients may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z0-9._@*-]+$`
	ClientIDs []string `json:"clientIDs,omitempty"`

	// groups (patterns) the selected namespaces' AuthUsers may carry.
	// "system:" groups are refused whatever a policy says.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[^,\s\p{Z}\p{C}]+$`
	Groups []string `json:"groups,omitempty"`

	// audiences (patterns) the selected namespaces' AuthClients may put in
	// their tokens' "aud": the resource servers whose tokens they may mint.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:Pattern=`^[^\s\p{Z}\p{C}]+$`
	Audiences []string `json:"audiences,omitempty"`

	// scopes (patterns) the selected namespaces' AuthUsers and AuthClients
	// may grant.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[\x21\x23-\x5B\x5D-\x7E]+$`
	Scopes []string `json:"scopes,omitempty"`

	// serviceAccountNamespaces (patterns) are the namespaces, other than
	// their own, whose ServiceAccounts the selected namespaces'
	// AuthClients may name in serviceAccountRef. An AuthClient may always
	// name a ServiceAccount of its own namespace.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9*-]+$`
	ServiceAccountNamespaces []string `json:"serviceAccountNamespaces,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=tp,categories=authstack
// +kubebuilder:printcolumn:name="Namespaces",type=string,JSONPath=`.spec.namespaces.names`
// +kubebuilder:printcolumn:name="Usernames",type=string,JSONPath=`.spec.usernames`
// +kubebuilder:printcolumn:name="ClientIDs",type=string,JSONPath=`.spec.clientIDs`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// TenancyPolicy is a cluster-scoped rule, written by the cluster's
// operator, of which usernames, client IDs and groups the AuthUsers and
// AuthClients of some namespaces may use: in a cluster shared by teams, a
// namespace's writers then cannot take, or pose as, another team's names.
type TenancyPolicy struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec defines the policy.
	// +required
	Spec TenancyPolicySpec `json:"spec"`
}

// +kubebuilder:object:root=true

// TenancyPolicyList contains a list of TenancyPolicy.
type TenancyPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenancyPolicy `json:"items"`
}
