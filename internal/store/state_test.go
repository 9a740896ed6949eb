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

package store_test

import (
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

func TestCredentialMark(t *testing.T) {
	nb := time.Unix(1_800_000_000, 123_456_789)
	for _, c := range []struct {
		nb   time.Time
		want int64
	}{
		{time.Time{}, 1},
		{time.Unix(0, 0), 1},
		{nb, 1_800_000_000_123},
	} {
		if got := store.CredentialMark(c.nb); got != c.want {
			t.Errorf("CredentialMark(%v) = %d, want %d", c.nb, got, c.want)
		}
	}
}

// Ends is the one rule by which every validator, the refresh grant and the
// login itself decide whether a user's state ends a session.
func TestUserStateEnds(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	at := func(ms int64) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	mark := func(ms int64) int64 { return store.CredentialMark(at(ms)) }
	for _, c := range []struct {
		name     string
		state    store.UserState
		authTime time.Time
		mark     int64
		want     bool
	}{
		{"no not-before", store.UserState{}, at(0), 1, false},
		{"no not-before, no mark", store.UserState{}, at(0), 0, false},
		{"disabled", store.UserState{Disabled: true}, at(5000), 1, true},
		{"checked against this record", store.UserState{NotBefore: at(300)}, at(700), mark(300), false},
		{"checked against this record, read in the same second", store.UserState{NotBefore: at(300)}, at(200), mark(300), false},
		// The race of a password change: the old record was read (its mark),
		// the new one was written with a not-before the login's clock puts
		// before its own read. Time alone would accept the session.
		{"superseded, not-before before auth_time", store.UserState{NotBefore: at(999)}, at(1000), mark(0), true},
		{"superseded by a millisecond", store.UserState{NotBefore: at(301)}, at(5000), mark(300), true},
		{"superseded after the record had none", store.UserState{NotBefore: at(300)}, at(5000), 1, true},
		{"not-before in a later second (revokeTokensBefore ahead)", store.UserState{NotBefore: at(2000)}, at(1999), mark(2000), true},
		{"not-before earlier in the same second", store.UserState{NotBefore: at(2000)}, at(2999), mark(2000), false},
		// Tokens from before marks existed are judged by time alone.
		{"no mark, after the not-before second", store.UserState{NotBefore: at(300)}, at(1000), 0, false},
		{"no mark, in the not-before second", store.UserState{NotBefore: at(300)}, at(900), 0, true},
		{"no mark, before", store.UserState{NotBefore: at(3000)}, at(1000), 0, true},
	} {
		if got := c.state.Ends(c.authTime, c.mark); got != c.want {
			t.Errorf("%s: Ends = %v, want %v", c.name, got, c.want)
		}
	}
}
