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

package credentials

import (
	"context"
	"errors"
	"strings"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// credential reads the AuthUser's Secret and returns its password hash
// (records.ReadCredential). An unchanged Secret (same fingerprint as the
// existing record) is not read again, and a plaintext password is not
// hashed again.
func (r *AuthUserReconciler) credential(ctx context.Context, u *v1alpha1.AuthUser, existing store.User) (records.Credential, error) {
	name, key, _, err := records.UserSecretRef(u)
	if err != nil {
		return records.Credential{}, failed(v1alpha1.ReasonSecretNotFound, "%s", err.Error())
	}
	rv, err := r.Secrets.version(ctx, u.Namespace, name)
	if err != nil {
		return records.Credential{}, err
	}
	policy := password.Policy{Params: r.Params, CostFactor: r.CostFactor}
	// An unchanged Secret keeps its hash while the policy still admits it
	// (the cap follows the parameters, which may have been lowered since).
	if version, _ := records.CredentialVersion(u, rv); existing.Source == records.Source(u) && existing.PasswordHash != "" &&
		existing.SecretVersion == version && policy.Check(existing.PasswordHash) == nil {
		return records.Credential{Hash: existing.PasswordHash, Version: existing.SecretVersion}, nil
	}
	sec, err := r.Secrets.get(ctx, u.Namespace, name, rv)
	if err != nil {
		return records.Credential{}, err
	}
	cred, err := records.ReadCredential(u, sec, existing, policy, poolHasher{ctx: ctx, pool: r.Hashing, params: r.Params})
	switch {
	case errors.Is(err, records.ErrSecretKeyMissing):
		return records.Credential{}, failed(v1alpha1.ReasonSecretKeyMissing, "Secret %q has no key %q", name, key)
	case errors.Is(err, password.ErrInvalidHash):
		return records.Credential{}, failed(v1alpha1.ReasonInvalidHash, "Secret %q key %q: %s", name, key,
			strings.TrimPrefix(err.Error(), password.ErrInvalidHash.Error()+": "))
	}
	return cred, err
}

// poolHasher hashes and checks passwords in the reconciler's hashing pool,
// which bounds the hashes run at once.
type poolHasher struct {
	ctx    context.Context
	pool   *password.Pool
	params password.Params
}

func (h poolHasher) Hash(pw []byte) (hash string, err error) {
	if perr := h.pool.DoWeighted(h.ctx, int(h.params.Threads), func() { hash, err = h.params.Hash(pw) }); perr != nil {
		return "", perr
	}
	return hash, err
}

func (h poolHasher) Matches(hash string, pw []byte) (bool, error) {
	var ok bool
	var verr error
	if err := h.pool.DoWeighted(h.ctx, int(h.params.Threads), func() { ok, verr = password.Verify(hash, pw) }); err != nil {
		return false, err
	}
	return verr == nil && ok, nil
}
