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

package session

import (
	"context"
	"errors"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
)

// Noter learns of revocations this replica writes (the revocation mirror).
type Noter interface {
	Note(e store.RevocationEvent)
}

// Revoker ends a session: its refresh tokens, and the access tokens
// issued in it (their "sid").
type Revoker struct {
	Store interface {
		store.Sessions
		store.Revocations
	}
	// Noter, if set, learns of the revocation at once.
	Noter Noter
	// Leeway is the validators' clock-skew leeway on exp.
	Leeway time.Duration
	// Clock decides whether the grant has run out; nil is the real clock.
	Clock clock.PassiveClock
}

// sessionMargin covers the clocks of other replicas, which minted some of
// the session's access tokens.
const sessionMargin = time.Minute

// Revoke ends session id. The refresh tokens go first: once the store has
// revoked the session no rotation succeeds, so the expiry it then reports
// bounds every access token the session has or will have, and the sid is
// remembered as revoked until then (plus the validators' leeway and a
// margin). accessUntil is the latest access-token expiry the caller knows
// of, for a session the store has no record of (one without refresh
// tokens). If the second step fails, the revoked session stays in the
// store until its tokens expire, so a retry (of /revoke, or a refresh)
// finds it and finishes the job.
func (r *Revoker) Revoke(ctx context.Context, id string, accessUntil time.Time) error {
	sess, err := r.Store.RevokeSession(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return oauth.StoreUnavailable(err)
	case sess.AccessExpiresAt.After(accessUntil):
		accessUntil = sess.AccessExpiresAt
	}
	until := accessUntil.Add(r.Leeway + sessionMargin)
	if !until.After(clocks.Or(r.Clock).Now()) {
		return nil // every access token of the session has expired
	}
	if err := r.Store.RevokeGrant(ctx, id, until); err != nil {
		return oauth.StoreUnavailable(err)
	}
	if r.Noter != nil {
		r.Noter.Note(store.RevocationEvent{Grant: id, Until: until})
	}
	return nil
}
