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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
)

// Credential is the password hash of an AuthUser and where it came from.
type Credential struct {
	Hash string
	// Version is the fingerprint of the Secret the hash came from
	// (CredentialVersion).
	Version string
	// Changed is set when the password differs from the one in the
	// existing record of this AuthUser (so its tokens must be revoked).
	Changed bool
}

// Hasher hashes and checks passwords; the manager's runs them in its
// hashing pool.
type Hasher interface {
	Hash(password []byte) (string, error)
	// Matches reports whether password is the one hash was made from. An
	// error is a failure to tell (no hashing slot), never a mismatch.
	Matches(hash string, password []byte) (bool, error)
}

// HashWith is the Hasher that hashes with p in the caller's goroutine.
func HashWith(p password.Params) Hasher { return paramsHasher(p) }

type paramsHasher password.Params

func (p paramsHasher) Hash(pw []byte) (string, error) { return password.Params(p).Hash(pw) }

func (paramsHasher) Matches(hash string, pw []byte) (bool, error) {
	ok, err := password.Verify(hash, pw)
	return err == nil && ok, nil
}

// CredentialVersion is the fingerprint of the AuthUser's password as read
// from its Secret at resourceVersion.
func CredentialVersion(u *v1alpha1.AuthUser, resourceVersion string) (string, error) {
	name, key, isHash, err := UserSecretRef(u)
	if err != nil {
		return "", err
	}
	kind := "password"
	if isHash {
		kind = "passwordHash"
	}
	return Fingerprint(kind, name, key, resourceVersion), nil
}

// ReadCredential reads the AuthUser's password from its Secret sec, given
// the record the store holds of its username (store.User{} for none). A
// given hash is checked against policy (an invalid one is policy.Check's
// error, wrapping password.ErrInvalidHash); a plaintext password is hashed
// with h, unless the existing record is this AuthUser's and its hash still
// matches the password within policy (then its tokens stay, too).
func ReadCredential(u *v1alpha1.AuthUser, sec *corev1.Secret, existing store.User, policy password.Policy, h Hasher) (Credential, error) {
	_, key, isHash, err := UserSecretRef(u)
	if err != nil {
		return Credential{}, err
	}
	version, err := CredentialVersion(u, sec.ResourceVersion)
	if err != nil {
		return Credential{}, err
	}
	cred := Credential{Version: version}
	value, err := SecretValue(sec, key)
	if err != nil {
		return Credential{}, err
	}
	mine := existing.Source == Source(u) && existing.PasswordHash != ""
	if isHash {
		cred.Hash = strings.TrimSpace(value)
		if err := policy.Check(cred.Hash); err != nil {
			return Credential{}, err
		}
		cred.Changed = mine && cred.Hash != existing.PasswordHash
		return cred, nil
	}
	samePassword := false
	if mine {
		// The Secret changed, perhaps not the password (a label, another
		// key): keep the hash, and the user's tokens, when it still matches.
		if samePassword, err = h.Matches(existing.PasswordHash, []byte(value)); err != nil {
			return Credential{}, err
		}
		if samePassword && policy.Check(existing.PasswordHash) == nil {
			cred.Hash = existing.PasswordHash
			return cred, nil
		}
		// Otherwise hashed again below; the same password, hashed anew
		// within the cap, keeps the user's tokens.
	}
	if cred.Hash, err = h.Hash([]byte(value)); err != nil {
		return Credential{}, err
	}
	cred.Changed = mine && !samePassword
	return cred, nil
}

// User is the record for u: a pure function of the AuthUser, its
// credential, the record the store holds of its username (store.User{} for
// none) and the time.
//
// Its NotBefore only moves forward, so nothing revoked comes back:
//   - a new record (none, or another resource's) starts at now, so tokens of
//     an earlier user of that name, or from before the store lost its data,
//     are refused;
//   - a password change, or disabling the user, moves it to now;
//   - spec.revokeTokensBefore moves it to that time when later.
//
// Every move is to the millisecond and at least a millisecond past the
// existing not-before: tokens carry the not-before of the record their
// password was checked against (store.CredentialMark), and a session is
// ended exactly when the record's moves past it.
func User(u *v1alpha1.AuthUser, cred Credential, existing store.User, now time.Time) store.User {
	mine := existing.Source == Source(u) && existing.Username == u.EffectiveUsername()
	nb := forward(existing.NotBefore, now)
	if mine {
		nb = existing.NotBefore
		if cred.Changed || (u.Spec.Disabled && !existing.Disabled) {
			nb = forward(existing.NotBefore, now)
		}
	}
	if rtb := u.Spec.RevokeTokensBefore; rtb != nil && rtb.After(nb) {
		nb = rtb.Time
	}
	return store.User{
		Username:      u.EffectiveUsername(),
		PasswordHash:  cred.Hash,
		Scopes:        nonEmpty(u.Spec.Scopes),
		Groups:        nonEmpty(u.Spec.Groups),
		Disabled:      u.Spec.Disabled,
		NotBefore:     nb,
		Source:        Source(u),
		SecretVersion: cred.Version,
	}
}

// forward is the not-before that replaces old at now: now to the
// millisecond, and never less than a millisecond after old (a clock that
// went back, or two changes in one millisecond, still move it).
func forward(old, now time.Time) time.Time {
	nb := now.Truncate(time.Millisecond)
	if !old.IsZero() && !nb.After(old) {
		nb = old.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	return nb
}

// SameUser compares records as the store returns them.
func SameUser(a, b store.User) bool {
	return a.Username == b.Username && a.PasswordHash == b.PasswordHash &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Groups, b.Groups) &&
		a.Disabled == b.Disabled && a.NotBefore.Equal(b.NotBefore) &&
		a.Source == b.Source && a.SecretVersion == b.SecretVersion
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
