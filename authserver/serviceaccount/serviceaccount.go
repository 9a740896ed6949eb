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

// Package serviceaccount verifies Kubernetes ServiceAccount tokens by
// asking kube-apiserver: each token is posted as a TokenReview
// (authentication.k8s.io/v1) whose spec.audiences are the auth server's.
// The API server is what knows that a bound token's Pod or Secret is gone
// or that its ServiceAccount was deleted and created again, so it alone
// decides; nothing is cached (docs/decisions.md, 2026-12-01).
package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/client-go/rest"

	"github.com/authstack/authstack/authserver/clientauth"
)

// DefaultTimeout bounds one TokenReview when Verifier.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// MaxTokenBytes bounds a token sent for review. A projected ServiceAccount
// token is about a kilobyte; anything far larger is refused without
// bothering the API server.
const MaxTokenBytes = 16 << 10

// usernamePrefix starts the username kube-apiserver gives a ServiceAccount
// (system:serviceaccount:<namespace>:<name>).
const usernamePrefix = "system:serviceaccount:"

// Verifier is a clientauth.ServiceAccountVerifier that asks kube-apiserver,
// by the TokenReview API, whether a token is a live ServiceAccount's.
type Verifier struct {
	// Reviews creates TokenReviews (client-go's
	// AuthenticationV1().TokenReviews()). Required.
	Reviews authenticationclient.TokenReviewInterface
	// Audiences are the audiences a token must hold one of: the auth
	// server's issuer. Required.
	Audiences []string
	// Timeout bounds each review; DefaultTimeout when zero.
	Timeout time.Duration
}

var _ clientauth.ServiceAccountVerifier = (*Verifier)(nil)

// New returns a Verifier that reviews tokens through the API server cfg
// reaches, for tokens holding one of audiences.
func New(cfg *rest.Config, audiences []string) (*Verifier, error) {
	if len(audiences) == 0 || slices.Contains(audiences, "") {
		return nil, errors.New("service account verifier: no audience")
	}
	c, err := authenticationclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("service account verifier: %w", err)
	}
	return &Verifier{Reviews: c.TokenReviews(), Audiences: slices.Clone(audiences)}, nil
}

// VerifyServiceAccountToken returns the ServiceAccount token authenticates,
// as kube-apiserver judges it now.
func (v *Verifier) VerifyServiceAccountToken(ctx context.Context, token string) (clientauth.ServiceAccountIdentity, error) {
	if err := checkShape(token); err != nil {
		return clientauth.ServiceAccountIdentity{}, err
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	review, err := v.Reviews.Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: v.Audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		// Not the token's fault: the API server could not be asked (or
		// refused us, as without RBAC to create tokenreviews).
		return clientauth.ServiceAccountIdentity{}, fmt.Errorf("tokenreview: %w", err)
	}
	return v.identity(review.Status)
}

// identity judges a review's answer.
func (v *Verifier) identity(st authenticationv1.TokenReviewStatus) (clientauth.ServiceAccountIdentity, error) {
	if !st.Authenticated {
		reason := "the cluster did not authenticate it"
		if st.Error != "" {
			reason += ": " + clip(st.Error)
		}
		return clientauth.ServiceAccountIdentity{}, refused(reason)
	}
	// The API server answers with the requested audiences the token holds;
	// an authenticator that ignores audiences answers none.
	if !slices.ContainsFunc(st.Audiences, func(a string) bool { return slices.Contains(v.Audiences, a) }) {
		return clientauth.ServiceAccountIdentity{}, refused("its audience is not this server's")
	}
	ns, name, ok := SplitUsername(st.User.Username)
	if !ok {
		return clientauth.ServiceAccountIdentity{}, refused("it is not a ServiceAccount's token")
	}
	if st.User.UID == "" {
		return clientauth.ServiceAccountIdentity{}, refused("the cluster named no ServiceAccount UID")
	}
	// Only kube-apiserver's own ServiceAccount authenticator, for a token
	// of the TokenRequest API (a pod's projection): it puts the account in
	// its groups and names the token's jti. A legacy Secret-based token
	// (no jti, no expiry), or another authenticator (a webhook, an OIDC
	// issuer) mapping claims to a ServiceAccount's username and UID, does
	// not vouch for an account.
	if !slices.Contains(st.User.Groups, serviceAccountsGroup) || !slices.Contains(st.User.Groups, serviceAccountsGroup+":"+ns) {
		return clientauth.ServiceAccountIdentity{}, refused("the cluster did not authenticate it as a ServiceAccount")
	}
	if id := st.User.Extra[credentialIDKey]; len(id) != 1 || !strings.HasPrefix(id[0], "JTI=") {
		return clientauth.ServiceAccountIdentity{}, refused("it is not a TokenRequest token (a pod's projected token): a legacy or foreign token")
	}
	return clientauth.ServiceAccountIdentity{Namespace: ns, Name: name, UID: st.User.UID}, nil
}

const (
	// serviceAccountsGroup is the group of every ServiceAccount, and with
	// ":<namespace>" of those of a namespace.
	serviceAccountsGroup = "system:serviceaccounts"
	// credentialIDKey is the extra in which kube-apiserver names the jti
	// of a TokenRequest token ("JTI=<jti>").
	credentialIDKey = "authentication.kubernetes.io/credential-id"
)

// SplitUsername returns the namespace and name of a ServiceAccount's
// username, system:serviceaccount:<namespace>:<name>, and whether it is
// one: both parts valid Kubernetes names, nothing else.
func SplitUsername(username string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(username, usernamePrefix)
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, ":")
	if !found || len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", false
	}
	return namespace, name, true
}

// checkShape refuses, without asking the API server, what cannot be a
// ServiceAccount token: empty, over MaxTokenBytes, or not a compact JWS
// (three base64url parts).
func checkShape(token string) error {
	switch {
	case token == "":
		return refused("it is empty")
	case len(token) > MaxTokenBytes:
		return refused(fmt.Sprintf("it is over %d bytes", MaxTokenBytes))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return refused("it is not a JWT")
	}
	for _, p := range parts {
		if strings.IndexFunc(p, notBase64URL) >= 0 {
			return refused("it is not a JWT")
		}
	}
	return nil
}

func notBase64URL(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		return false
	}
	return true
}

// refused is a refusal of the token, for reason (safe to show: never the
// token).
func refused(reason string) error {
	return fmt.Errorf("%w: %s", clientauth.ErrInvalidServiceAccountToken, reason)
}

// clip bounds the API server's own reason, which is shown.
func clip(s string) string {
	const maxReason = 200
	if len(s) <= maxReason {
		return s
	}
	return strings.ToValidUTF8(s[:maxReason], "") + "…"
}
