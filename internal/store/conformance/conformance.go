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

// Package conformance holds the behaviour every store.Store backend must
// share, in the style of dex's storage/conformance. A backend's test calls
// RunTests with a constructor that returns a fresh, empty store.
//
// The suite never sleeps: expiry and throttle windows are exercised through
// the now arguments. Times stay within an hour or two of the wall clock, so
// backends that garbage-collect by the real clock (with a grace period) keep
// every record the suite still looks at.
package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// Store is a backend under test: a store.Store, plus what only tests call
// and so stays out of store.Store (deleting a record whatever wrote it,
// and asking the store itself whether an access token is revoked, which
// validators learn from the mirror instead).
type Store interface {
	store.Store
	// DeleteUser removes the record; deleting a missing record is not an
	// error.
	DeleteUser(ctx context.Context, username string) error
	// DeleteClient is DeleteUser for client registrations.
	DeleteClient(ctx context.Context, id string) error
	// AccessTokenRevoked reports whether jti is revoked as of now.
	AccessTokenRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
}

// RunTests runs every conformance test against stores made by newStore.
// Each subtest gets its own store; newStore should register any cleanup
// with t.Cleanup.
func RunTests(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"UserCRUD", testUserCRUD},
		{"UserList", testUserList},
		{"UserCopies", testUserCopies},
		{"UserOddNames", testUserOddNames},
		{"DeleteFromSource", testDeleteFromSource},
		{"ClientCRUD", testClientCRUD},
		{"ClientList", testClientList},
		{"ClientCopies", testClientCopies},
		{"ClientCredentials", testClientCredentials},
		{"SessionCreateGet", testSessionCreateGet},
		{"SessionRotate", testSessionRotate},
		{"SessionRotateRetried", testSessionRotateRetried},
		{"SessionReuseRevokes", testSessionReuseRevokes},
		{"SessionExpiry", testSessionExpiry},
		{"SessionRevoke", testSessionRevoke},
		{"SessionRateLimit", testSessionRateLimit},
		{"SessionConcurrentRotate", testSessionConcurrentRotate},
		{"UserSessions", testUserSessions},
		{"AccessTokenRevocation", testAccessTokenRevocation},
		{"ThrottleWindows", testThrottleWindows},
		{"ThrottleIndependentKeys", testThrottleIndependentKeys},
		{"ThrottleOddKeys", testThrottleOddKeys},
		{"ThrottleConcurrent", testThrottleConcurrent},
		{"ThrottleInvalidWindow", testThrottleInvalidWindow},
		{"ThrottleCount", testThrottleCount},
		{"ReserveAdmitsBelowMax", testReserveAdmitsBelowMax},
		{"ReserveSettle", testReserveSettle},
		{"ReserveWindows", testReserveWindows},
		{"ReserveHoldExpires", testReserveHoldExpires},
		{"ReserveWithdrawnFirst", testReserveWithdrawnFirst},
		{"ReserveEveryLimitOrNone", testReserveEveryLimitOrNone},
		{"ReservePass", testReservePass},
		{"ReserveGroupsAndKeys", testReserveGroupsAndKeys},
		{"ReserveConcurrent", testReserveConcurrent},
		{"ReserveInvalid", testReserveInvalid},
		{"LoginBegin", testLoginBegin},
		{"LoginFinish", testLoginFinish},
		{"LoginFinishRecordsLogin", testLoginFinishRecordsLogin},
		{"ActivityLogins", testActivityLogins},
		{"ActivityThrottles", testActivityThrottles},
		{"ActivityManyThrottles", testActivityManyThrottles},
		{"ActivityForgotten", testActivityForgotten},
		{"RefreshBatches", testRefreshBatches},
		{"RefreshClient", testRefreshClient},
		{"Epoch", testEpoch},
		{"FeedLoad", testFeedLoad},
		{"FeedRead", testFeedRead},
		{"FeedWriteTime", testFeedWriteTime},
		{"FeedUserOwnership", testFeedUserOwnership},
		{"FeedClientState", testFeedClientState},
		{"AssertionOnce", testAssertionOnce},
		{"AssertionConcurrent", testAssertionConcurrent},
		{"FeedReset", testFeedReset},
		{"FeedWait", testFeedWait},
		{"FeedConcurrentWriters", testFeedConcurrentWriters},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// must fails t if err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// nilIfEmpty makes empty and nil slices compare equal, since backends that
// serialise records do not keep the difference.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// utc drops the location and monotonic reading, which serialisation does
// not keep either.
func utc(t time.Time) time.Time { return t.UTC() }
