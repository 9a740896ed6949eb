//go:build linux

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

package main

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestKeyKind(t *testing.T) {
	for key, want := range map[string]string{
		"authstack:{rts:abc}":                           "{rts}",
		"authstack:{rev}:log":                           "{rev}:log",
		"authstack:{attempts:127.0.0.2}:r:user:bob":     "{attempts}:r",
		"authstack:{throttle:rate:user:bob}:1m0s:12345": "{throttle}:1m0s",
		"untagged": "untagged",
	} {
		if got := keyKind(key); got != want {
			t.Errorf("keyKind(%q) = %q, want %q", key, got, want)
		}
	}
}

// A session is live until its refresh token expires or it is revoked, and
// held (by Redis) for storeGrace after its expiry either way.
func TestSessionBook(t *testing.T) {
	var b sessionBook
	b.add(time.Hour)
	b.add(time.Hour).end()
	b.add(-time.Minute)
	b.add(-storeGrace - time.Minute)
	if live, held := b.count(); live != 1 || held != 3 {
		t.Fatalf("count = %d live, %d held; want 1, 3", live, held)
	}
	if len(b.list) != 3 {
		t.Fatalf("the book kept %d sessions, want the 3 held", len(b.list))
	}
}

// A response is expected only with the wanted status and, when named, the
// wanted OAuth error; the others are counted and shown.
func TestTallyCheck(t *testing.T) {
	tl := newTally()
	refused := reply{status: http.StatusBadRequest, body: []byte(`{"error":"invalid_grant"}`)}
	if !tl.check("refresh", refused, "invalid_grant", http.StatusBadRequest) {
		t.Error("the expected invalid_grant was not taken")
	}
	if tl.check("refresh", refused, "invalid_client", http.StatusBadRequest) {
		t.Error("another OAuth error was taken")
	}
	if tl.check("login", reply{status: http.StatusServiceUnavailable}, "", http.StatusOK) {
		t.Error("a 503 was taken for a 200")
	}
	if tl.check("login", reply{err: errors.New("reset")}, "", http.StatusOK) {
		t.Error("no response was taken for a 200")
	}
	tl.note("verify: 200 while the change propagated")
	if tl.errors() != 3 || tl.total() != 5 || tl.unexpected["login: no response"] != 1 || len(tl.examples) != 3 {
		t.Fatalf("errors %d, total %d, unexpected %v", tl.errors(), tl.total(), tl.unexpected)
	}
}
