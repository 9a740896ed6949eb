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

package clientauth

import (
	"context"
	"errors"
)

// ServiceAccountIdentity is the Kubernetes ServiceAccount a verified
// ServiceAccount token authenticates.
type ServiceAccountIdentity struct {
	Namespace, Name, UID string
}

// ServiceAccountVerifier verifies a Kubernetes ServiceAccount token
// presented as a client assertion, whose audience must be the auth
// server's issuer.
type ServiceAccountVerifier interface {
	// VerifyServiceAccountToken returns the account token authenticates.
	// A token the cluster refuses is an error wrapping
	// ErrInvalidServiceAccountToken (invalid_client); any other error means
	// the cluster could not tell (503).
	VerifyServiceAccountToken(ctx context.Context, token string) (ServiceAccountIdentity, error)
}

// ErrInvalidServiceAccountToken is wrapped by a ServiceAccountVerifier's
// refusal of a token.
var ErrInvalidServiceAccountToken = errors.New("invalid service account token")
