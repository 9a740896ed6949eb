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

package mirror

import (
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// Pruning forgets what ran out, in both forms of identifier, and keeps
// what is still revoked, also an id revoked again for longer between the
// listing and the deletion.
func TestPrune(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	st := newState("e")
	compactOld, compactLive := "AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBA"
	for _, e := range []store.RevocationEvent{
		{JTI: compactOld, Until: now.Add(-time.Second)},
		{JTI: compactLive, Until: now.Add(time.Hour)},
		{JTI: "short", Until: now.Add(-time.Second)},
		{Grant: "g-old", Until: now.Add(-time.Second)},
		{Grant: "g-live", Until: now.Add(time.Hour)},
		{Grant: "g-again", Until: now.Add(-time.Second)},
	} {
		st.apply(e)
	}
	if _, ok := compactID(compactOld); !ok {
		t.Fatal("test ids are not in the compact form")
	}
	gone := st.expired(now.UnixMilli())
	st.apply(store.RevocationEvent{Grant: "g-again", Until: now.Add(time.Hour)}) // revoked again meanwhile
	st.forget(gone, now.UnixMilli())
	later := now.Add(-2 * time.Second).UnixMilli() // as if checked before they ran out
	for id, want := range map[string]bool{compactOld: false, compactLive: true, "short": false} {
		if got := st.jtis.revoked(id, later); got != want {
			t.Errorf("jti %s kept: %v, want %v", id, got, want)
		}
	}
	for id, want := range map[string]bool{"g-old": false, "g-live": true, "g-again": true} {
		if got := st.grants.revoked(id, later); got != want {
			t.Errorf("grant %s kept: %v, want %v", id, got, want)
		}
	}
	if st.jtis.len() != 1 || st.grants.len() != 2 {
		t.Fatalf("sizes %d %d", st.jtis.len(), st.grants.len())
	}
}
