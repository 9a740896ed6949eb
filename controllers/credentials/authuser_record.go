package credentials

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// credential is the password hash of an AuthUser and where it came from.
type credential struct {
	hash string
	// version is the fingerprint of the Secret the hash came from.
	version string
	// changed is set when the password differs from the one in the
	// existing record of this AuthUser (so its tokens must be revoked).
	changed bool
}

// credential reads the AuthUser's Secret and returns its password hash. An
// unchanged Secret (same fingerprint as the existing record) is not read
// again, and a plaintext password is not hashed again.
func (r *AuthUserReconciler) credential(ctx context.Context, u *v1alpha1.AuthUser, existing store.User) (credential, error) {
	name, key, isHash, err := records.UserSecretRef(u)
	if err != nil {
		return credential{}, failed(v1alpha1.ReasonSecretNotFound, "%s", err.Error())
	}
	kind := "password"
	if isHash {
		kind = "passwordHash"
	}
	rv, err := r.Secrets.version(ctx, u.Namespace, name)
	if err != nil {
		return credential{}, err
	}
	policy := password.Policy{Params: r.Params, CostFactor: r.CostFactor}
	mine := existing.Source == sourceOf(u) && existing.PasswordHash != ""
	// An unchanged Secret keeps its hash while the policy still admits it
	// (the cap follows the parameters, which may have been lowered since).
	if mine && existing.SecretVersion == fingerprint(kind, name, key, rv) && policy.Check(existing.PasswordHash) == nil {
		return credential{hash: existing.PasswordHash, version: existing.SecretVersion}, nil
	}
	sec, err := r.Secrets.get(ctx, u.Namespace, name)
	if err != nil {
		return credential{}, err
	}
	cred := credential{version: fingerprint(kind, name, key, sec.ResourceVersion)}
	value, err := records.SecretValue(sec, key)
	if err != nil {
		return credential{}, failed(v1alpha1.ReasonSecretKeyMissing, "Secret %q has no key %q", name, key)
	}
	if isHash {
		cred.hash = strings.TrimSpace(value)
		if err := policy.Check(cred.hash); err != nil {
			return credential{}, failed(v1alpha1.ReasonInvalidHash, "Secret %q key %q: %s", name, key,
				strings.TrimPrefix(err.Error(), password.ErrInvalidHash.Error()+": "))
		}
		cred.changed = mine && cred.hash != existing.PasswordHash
		return cred, nil
	}
	samePassword := false
	if mine {
		// The Secret changed, perhaps not the password (a label, another
		// key): keep the hash, and the user's tokens, when it still matches.
		var ok bool
		var verr error
		if err := r.Hashing.DoWeighted(ctx, int(r.Params.Threads), func() { ok, verr = password.Verify(existing.PasswordHash, []byte(value)) }); err != nil {
			return credential{}, err
		}
		samePassword = verr == nil && ok
		if samePassword && policy.Check(existing.PasswordHash) == nil {
			cred.hash = existing.PasswordHash
			return cred, nil
		}
		// Otherwise hashed again below; the same password, hashed anew
		// within the cap, keeps the user's tokens.
	}
	var h string
	if perr := r.Hashing.DoWeighted(ctx, int(r.Params.Threads), func() { h, err = r.Params.Hash([]byte(value)) }); perr != nil {
		return credential{}, perr
	}
	if err != nil {
		return credential{}, err
	}
	cred.hash, cred.changed = h, mine && !samePassword
	return cred, nil
}

// desiredUser is the record for u: a pure function of the AuthUser, its
// credential, the record in the store and the time.
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
func desiredUser(u *v1alpha1.AuthUser, cred credential, existing store.User, now time.Time) store.User {
	mine := existing.Source == sourceOf(u) && existing.Username == u.EffectiveUsername()
	nb := forward(existing.NotBefore, now)
	if mine {
		nb = existing.NotBefore
		if cred.changed || (u.Spec.Disabled && !existing.Disabled) {
			nb = forward(existing.NotBefore, now)
		}
	}
	if rtb := u.Spec.RevokeTokensBefore; rtb != nil && rtb.After(nb) {
		nb = rtb.Time
	}
	return store.User{
		Username:      u.EffectiveUsername(),
		PasswordHash:  cred.hash,
		Scopes:        nonEmpty(u.Spec.Scopes),
		Groups:        nonEmpty(u.Spec.Groups),
		Disabled:      u.Spec.Disabled,
		NotBefore:     nb,
		Source:        sourceOf(u),
		SecretVersion: cred.version,
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

// sameUser compares records as the store returns them.
func sameUser(a, b store.User) bool {
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
