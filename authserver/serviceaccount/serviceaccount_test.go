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

package serviceaccount_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/serviceaccount"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// issuer is the auth server's issuer, the audience its ServiceAccount
// tokens are minted for.
const issuer = "https://auth.example.test"

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// kube is a clientset of the envtest API server (as its admin).
func kube(t *testing.T) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingVerifier is a Verifier of the envtest API server whose requests
// are counted.
func countingVerifier(t *testing.T) (*serviceaccount.Verifier, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return rt.RoundTrip(r)
		})
	})
	v, err := serviceaccount.New(cfg, []string{issuer})
	if err != nil {
		t.Fatal(err)
	}
	return v, &n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// createSA creates the ServiceAccount ns/name.
func createSA(t *testing.T, ns, name string) *corev1.ServiceAccount {
	t.Helper()
	sa, err := kube(t).CoreV1().ServiceAccounts(ns).Create(context.Background(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// mint returns a token of ns/name minted by the TokenRequest API, as the
// kubelet mints a projected one, for audiences (and bound to bound when
// set).
func mint(t *testing.T, ns, name string, bound *authenticationv1.BoundObjectReference, audiences ...string) string {
	t.Helper()
	expiry := int64(600) // the least TokenRequest takes
	tr, err := kube(t).CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &expiry, BoundObjectRef: bound},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// mustRefuse checks that the verifier refuses token as invalid (not as an
// outage), with a reason that does not repeat the token, and returns the
// reason.
func mustRefuse(t *testing.T, v *serviceaccount.Verifier, token string) string {
	t.Helper()
	id, err := v.VerifyServiceAccountToken(context.Background(), token)
	if !errors.Is(err, clientauth.ErrInvalidServiceAccountToken) {
		t.Fatalf("VerifyServiceAccountToken = %+v, %v; want a refusal", id, err)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Fatalf("the refusal repeats the token: %v", err)
	}
	return err.Error()
}

// refused reports whether v refuses token now (failing on an outage).
func refused(t *testing.T, v *serviceaccount.Verifier, token string) bool {
	t.Helper()
	_, err := v.VerifyServiceAccountToken(context.Background(), token)
	if err != nil && !errors.Is(err, clientauth.ErrInvalidServiceAccountToken) {
		t.Fatalf("VerifyServiceAccountToken: %v", err)
	}
	return err != nil
}

// untilRefused waits for v to refuse token, which was valid. kube-apiserver
// keeps a successful token authentication for 10 s (its token cache,
// which TokenReview answers from too), so a token whose Pod or
// ServiceAccount is gone may still pass for that long. The bound is for a
// hung test; nothing is timed.
func untilRefused(t *testing.T, v *serviceaccount.Verifier, token string) {
	t.Helper()
	start := time.Now()
	for !refused(t, v, token) {
		if time.Since(start) > time.Minute {
			t.Fatal("the token is still accepted after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("refused %v after the deletion", time.Since(start).Round(100*time.Millisecond))
	mustRefuse(t, v, token)
}

func mustVerify(t *testing.T, v *serviceaccount.Verifier, token string) clientauth.ServiceAccountIdentity {
	t.Helper()
	id, err := v.VerifyServiceAccountToken(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyServiceAccountToken: %v", err)
	}
	return id
}

// A token minted for the issuer is the ServiceAccount's, with its UID; one
// of an account in another namespace names that namespace (the caller
// compares it with the AuthClient's).
func TestAcceptsTheServiceAccountsToken(t *testing.T) {
	t.Parallel()
	v, _ := countingVerifier(t)
	ns, other := env.Namespace(t), env.Namespace(t)
	sa := createSA(t, ns, "billing")
	id := mustVerify(t, v, mint(t, ns, "billing", nil, issuer))
	if want := (clientauth.ServiceAccountIdentity{Namespace: ns, Name: "billing", UID: string(sa.UID)}); id != want {
		t.Errorf("identity %+v, want %+v", id, want)
	}
	// Among other audiences, the issuer is enough.
	if id := mustVerify(t, v, mint(t, ns, "billing", nil, "https://other.example.test", issuer)); id.UID != string(sa.UID) {
		t.Errorf("identity %+v", id)
	}
	osa := createSA(t, other, "billing")
	id = mustVerify(t, v, mint(t, other, "billing", nil, issuer))
	if id.Namespace != other || id.UID != string(osa.UID) || id.UID == string(sa.UID) {
		t.Errorf("identity %+v of %s/billing (uid %s)", id, other, osa.UID)
	}
}

func TestRefusesAnotherAudience(t *testing.T) {
	t.Parallel()
	v, _ := countingVerifier(t)
	ns := env.Namespace(t)
	createSA(t, ns, "billing")
	for _, aud := range []string{"https://other.example.test", issuer + "/", "https://auth.example.test.evil"} {
		mustRefuse(t, v, mint(t, ns, "billing", nil, aud))
	}
	// The verifier of another issuer refuses this one's token.
	w, err := serviceaccount.New(env.Config, []string{"https://other.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, w, mint(t, ns, "billing", nil, issuer))
}

// A token bound to a Pod works while the Pod exists, and stops when it is
// deleted (envtest has no nodes: an unscheduled Pod goes at once).
func TestRefusesABoundTokenOfADeletedPod(t *testing.T) {
	t.Parallel()
	v, _ := countingVerifier(t)
	ns := env.Namespace(t)
	createSA(t, ns, "billing")
	off := false
	pods := kube(t).CoreV1().Pods(ns)
	pod, err := pods.Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: corev1.PodSpec{ServiceAccountName: "billing", AutomountServiceAccountToken: &off,
			Containers: []corev1.Container{{Name: "app", Image: "example.test/app"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, ns, "billing", &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}, issuer)
	mustVerify(t, v, tok)
	if err := pods.Delete(context.Background(), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	authtest.Eventually(t, "the pod to be gone", func() bool {
		_, err := pods.Get(context.Background(), pod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	untilRefused(t, v, tok)
}

// A ServiceAccount deleted and created again under its name is another
// account: the old one's tokens are refused, the new one has its own UID.
func TestRefusesTheTokenOfARecreatedServiceAccount(t *testing.T) {
	t.Parallel()
	v, _ := countingVerifier(t)
	ns := env.Namespace(t)
	old := createSA(t, ns, "billing")
	oldTok := mint(t, ns, "billing", nil, issuer)
	mustVerify(t, v, oldTok)
	if err := kube(t).CoreV1().ServiceAccounts(ns).Delete(context.Background(), "billing", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	untilRefused(t, v, oldTok)
	sa := createSA(t, ns, "billing")
	if sa.UID == old.UID {
		t.Fatalf("the re-created ServiceAccount kept UID %s", sa.UID)
	}
	var id clientauth.ServiceAccountIdentity
	authtest.Eventually(t, "the new account's token to be accepted", func() bool {
		var err error
		id, err = v.VerifyServiceAccountToken(context.Background(), mint(t, ns, "billing", nil, issuer))
		return err == nil
	})
	if id.UID != string(sa.UID) {
		t.Errorf("identity %+v, want UID %s", id, sa.UID)
	}
	// The old token stays refused with the new account in place.
	mustRefuse(t, v, oldTok)
}

// resign returns token's claims, with exp, iat and nbf moved to end at exp,
// signed by the API server's own ServiceAccount signing key under the
// token's kid: a token the API server would have issued.
func resign(t *testing.T, token string, exp time.Time) string {
	t.Helper()
	pemData, err := os.ReadFile(filepath.Join(env.CertDir, "sa-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signer.ParsePEM(pemData)
	if err != nil || len(keys) != 1 {
		t.Fatalf("sa-signer.key: %d keys, %v", len(keys), err)
	}
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(token, claims)
	if err != nil {
		t.Fatal(err)
	}
	claims["exp"] = exp.Unix()
	claims["iat"] = exp.Add(-10 * time.Minute).Unix()
	claims["nbf"] = exp.Add(-10 * time.Minute).Unix()
	j := jwt.NewWithClaims(jwt.GetSigningMethod(keys[0].Alg), claims)
	j.Header["kid"] = parsed.Header["kid"]
	s, err := j.SignedString(keys[0].Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TokenRequest mints nothing shorter than ten minutes, so the expired
// token is the real claims re-signed with the API server's signing key and
// an exp in the past; the same re-signing with a later exp is accepted, so
// the refusal is the expiry's.
func TestRefusesAnExpiredToken(t *testing.T) {
	t.Parallel()
	v, _ := countingVerifier(t)
	ns := env.Namespace(t)
	createSA(t, ns, "billing")
	tok := mint(t, ns, "billing", nil, issuer)
	mustVerify(t, v, resign(t, tok, time.Now().Add(5*time.Minute)))
	if reason := mustRefuse(t, v, resign(t, tok, time.Now().Add(-time.Hour))); !strings.Contains(reason, "expired") {
		t.Errorf("refusal %q does not say the token expired", reason)
	}
}

// Garbage, and a token over MaxTokenBytes, are refused without a request
// to the API server; a well-formed forgery takes one, and is refused.
func TestRefusesGarbageWithoutAsking(t *testing.T) {
	t.Parallel()
	v, requests := countingVerifier(t)
	ns := env.Namespace(t)
	createSA(t, ns, "billing")
	tok := mint(t, ns, "billing", nil, issuer)
	parts := strings.Split(tok, ".")
	huge := parts[0] + "." + parts[1] + strings.Repeat("A", serviceaccount.MaxTokenBytes) + "." + parts[2]
	for _, garbage := range []string{"", "not-a-jwt", "a.b", "a..c", tok + ".x", tok[:len(tok)-1] + "=", "Bearer " + tok, huge} {
		mustRefuse(t, v, garbage)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d API requests for garbage", n)
	}
	forged := parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:]
	mustRefuse(t, v, forged)
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d API requests for a forged token, want 1", n)
	}
}

// When the API server cannot answer, or refuses the review itself, the
// error is not a refusal of the token (the caller answers 503).
func TestAnOutageIsNotARefusal(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	createSA(t, ns, "billing")
	tok := mint(t, ns, "billing", nil, issuer)

	// Without RBAC to create tokenreviews.
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":nobody"}
	forbidden, err := serviceaccount.New(cfg, []string{issuer})
	if err != nil {
		t.Fatal(err)
	}
	// An API server that is not there.
	cfg = rest.CopyConfig(env.Config)
	cfg.Host = "https://" + authtest.MustFreeAddr(t)
	gone, err := serviceaccount.New(cfg, []string{issuer})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*serviceaccount.Verifier{"forbidden": forbidden, "unreachable": gone} {
		_, err := v.VerifyServiceAccountToken(context.Background(), tok)
		if err == nil || errors.Is(err, clientauth.ErrInvalidServiceAccountToken) {
			t.Errorf("%s: %v; want an error that is not a refusal", name, err)
		}
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("%s: the error repeats the token", name)
		}
	}
	if _, err := forbidden.VerifyServiceAccountToken(context.Background(), tok); !apierrors.IsForbidden(err) {
		t.Errorf("forbidden: %v, want the API server's 403 wrapped", err)
	}
}

func TestNewNeedsAnAudience(t *testing.T) {
	t.Parallel()
	for _, auds := range [][]string{nil, {}, {""}, {issuer, ""}} {
		if _, err := serviceaccount.New(env.Config, auds); err == nil {
			t.Errorf("New(%q) accepted", auds)
		}
	}
}

// Another of kube-apiserver's authenticators (here a static token file;
// in a cluster a webhook or a JWT issuer with careless claim mappings) may
// answer a ServiceAccount's username, UID and groups for a token the
// ServiceAccount authenticator never issued. Only a TokenRequest token
// (its jti named in the credential-id extra) vouches for an account.
func TestRefusesAnotherAuthenticatorsLookAlike(t *testing.T) {
	dir := t.TempDir()
	const lookAlike = "aaaa.bbbb.cccc"
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(lookAlike+`,system:serviceaccount:team:worker,0b5ae0b4-1d46-4f7e-8a36-5e1d35f1f0c1,"system:serviceaccounts,system:serviceaccounts:team"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &envtest.Environment{BinaryAssetsDirectory: testenv.Assets()}
	args := e.ControlPlane.GetAPIServer().Configure()
	args.Set("token-auth-file", tokens)
	// The static authenticator knows no audiences: the API server lets it
	// answer a review for its own audiences, which here hold the issuer.
	args.Set("api-audiences", issuer)
	cfg, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	c, err := authenticationclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The API server does vouch for it, as that account...
	review, err := c.TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: lookAlike, Audiences: []string{issuer}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !review.Status.Authenticated || review.Status.User.Username != "system:serviceaccount:team:worker" {
		t.Fatalf("the static token was not authenticated as the account: %+v", review.Status)
	}
	// ...but not as a ServiceAccount token.
	v, err := serviceaccount.New(cfg, []string{issuer})
	if err != nil {
		t.Fatal(err)
	}
	if reason := mustRefuse(t, v, lookAlike); !strings.Contains(reason, "TokenRequest") {
		t.Errorf("refused for another reason: %s", reason)
	}
}
