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

// Package v1alpha1 contains API Schema definitions for the authstack.dev v1alpha1 API group.
// +kubebuilder:object:generate=true
// +groupName=authstack.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "authstack.dev", Version: "v1alpha1"}

	// SchemeBuilder adds this group-version's kinds to a scheme. It is
	// apimachinery's builder, as k8s.io/api uses, rather than
	// controller-runtime's scheme.Builder (deprecated: an API package should
	// depend on little beyond apimachinery).
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers every kind of the group-version, each with its
// list type. A new kind is added here.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&AuthUser{}, &AuthUserList{},
		&AuthClient{}, &AuthClientList{},
		&TenancyPolicy{}, &TenancyPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
