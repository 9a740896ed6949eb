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
	"context"
	"errors"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/testing/serverproc"
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
	busy := reply{status: http.StatusServiceUnavailable, body: []byte(`{"error":"temporarily_unavailable","error_description":"server busy; retry later"}`)}
	if tl.check("login", busy, "", http.StatusOK) {
		t.Error("a 503 server busy was taken for a 200")
	}
	tl.note("verify: 200 while the change propagated")
	if tl.errors() != 4 || tl.total() != 6 || tl.unexpected["login: no response"] != 1 || len(tl.examples) != 4 {
		t.Fatalf("errors %d, total %d, unexpected %v", tl.errors(), tl.total(), tl.unexpected)
	}
	// The causes are told apart: the hash pool's refusal from a 503
	// without a body.
	if tl.busy() != 1 || tl.unexpected[`login: 503 temporarily_unavailable "server busy; retry later"`] != 1 || tl.unexpected["login: 503"] != 1 {
		t.Fatalf("busy %d, unexpected %v", tl.busy(), tl.unexpected)
	}
}

// A user change under way when the soak ends is finished and checked, not
// cut off: its requests would otherwise end without an answer (context
// canceled) and count as unexpected (three of a short soak's did).
func TestChangeUnderWayAtTheEndIsFinished(t *testing.T) {
	bin, dir := serverproc.BuildForTest(t)
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	o := options{users: 6, addrs: 2, churnUsers: 3, changeEvery: 10 * time.Millisecond, accessTTL: 30 * time.Second, refreshTTL: time.Minute}
	c, err := startCluster(ctx, o, bin, redisBin, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	m := &mix{c: c, o: o, t: newTally()}
	ch, err := newChurn(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	stop, end := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ch.run(stop, ctx)
	}()
	// End the loop as soon as a change has had its first answer: the
	// change has more requests to make.
	deadline := time.Now().Add(time.Minute)
	for m.t.total() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	end()
	<-done
	if m.t.total() < 2 {
		t.Fatalf("%d answers: the change did not run", m.t.total())
	}
	if n := m.t.errors(); n != 0 {
		t.Fatalf("%d unexpected answers: %v", n, m.t.examples)
	}
}
