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

package conformance

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// attempt is a reservation in one group with a ten-second hold.
func attempt(id string, limits ...store.ThrottleLimit) store.Reservation {
	return store.Reservation{Group: "ip:198.51.100.1", ID: id, Hold: 10 * time.Second, Limits: limits}
}

func limit(key string, max int64, w time.Duration) store.ThrottleLimit {
	return store.ThrottleLimit{Key: key, Max: max, Window: w}
}

// within returns a time near the wall clock such that it and the span
// after it lie in one window of length w. (Reservations are collected by
// the real clock a minute after their hold: the suite's times stay close.)
func within(w, span time.Duration) time.Time {
	now := time.Now()
	if next := windowStart(now.Add(span), w); !windowStart(now, w).Equal(next) {
		return next
	}
	return now
}

func admit(t *testing.T, s Store, r store.Reservation, now time.Time) {
	t.Helper()
	a, err := s.Reserve(t.Context(), r, now)
	must(t, "Reserve "+r.ID, err)
	if !a.Admitted() {
		t.Fatalf("Reserve %s at %v: refused by limit %d (in flight %v), want admitted", r.ID, now, a.Refused, a.InFlight)
	}
}

func refuse(t *testing.T, s Store, r store.Reservation, now time.Time, index int, inFlight bool) {
	t.Helper()
	a, err := s.Reserve(t.Context(), r, now)
	must(t, "Reserve "+r.ID, err)
	if a.Refused != index || a.InFlight != inFlight {
		t.Fatalf("Reserve %s at %v = %+v, want refused by limit %d, in flight %v", r.ID, now, a, index, inFlight)
	}
}

func settle(t *testing.T, s Store, r store.Reservation, o store.Outcome, now time.Time) {
	t.Helper()
	must(t, "Settle "+r.ID, s.Settle(t.Context(), r, o, now))
}

// Failures plus reservations in flight are judged against Max: in flight
// alone is told apart, so a caller can tell "wait a moment" from "wait for
// the window".
func testReserveAdmitsBelowMax(t *testing.T, s Store) {
	now := time.Now()
	u := limit("u", 3, time.Minute)
	for _, id := range []string{"1", "2", "3"} {
		admit(t, s, attempt(id, u), now)
	}
	refuse(t, s, attempt("4", u), now, 0, true)
	settle(t, s, attempt("1", u), store.Failed, now)
	refuse(t, s, attempt("5", u), now, 0, true) // 1 failure + 2 in flight
	settle(t, s, attempt("2", u), store.Failed, now)
	settle(t, s, attempt("3", u), store.Failed, now)
	refuse(t, s, attempt("6", u), now, 0, false)
}

// Only Failed counts; an expired reservation still counts its failure.
func testReserveSettle(t *testing.T, s Store) {
	now := within(time.Hour, 20*time.Second)
	u := limit("u", 2, time.Hour)
	admit(t, s, attempt("a", u), now)
	admit(t, s, attempt("b", u), now)
	settle(t, s, attempt("a", u), store.Withdrawn, now)
	settle(t, s, attempt("b", u), store.Succeeded, now)
	admit(t, s, attempt("c", u), now)
	admit(t, s, attempt("d", u), now)
	settle(t, s, attempt("c", u), store.Failed, now)
	// d's hold ended before it was settled: its failure counts all the same.
	settle(t, s, attempt("d", u), store.Failed, now.Add(20*time.Second))
	refuse(t, s, attempt("e", u), now.Add(20*time.Second), 0, false)
	// Settling what was never reserved (or is settled already) is harmless.
	settle(t, s, attempt("gone", u), store.Withdrawn, now)
}

// Failures count in the window containing the settling now.
func testReserveWindows(t *testing.T, s Store) {
	w := time.Minute
	base := windowStart(time.Now(), w)
	u := limit("u", 1, w)
	admit(t, s, attempt("a", u), base.Add(10*time.Second))
	settle(t, s, attempt("a", u), store.Failed, base.Add(10*time.Second))
	refuse(t, s, attempt("b", u), base.Add(20*time.Second), 0, false)
	admit(t, s, attempt("c", u), base.Add(w+time.Second))
	settle(t, s, attempt("c", u), store.Withdrawn, base.Add(w+time.Second))
	// d started in one window and failed in the next: it counts there.
	v := limit("v", 1, w)
	admit(t, s, attempt("d", v), base.Add(w-time.Second))
	settle(t, s, attempt("d", v), store.Failed, base.Add(w+time.Second))
	refuse(t, s, attempt("e", v), base.Add(w+2*time.Second), 0, false)
	admit(t, s, attempt("f", u), base.Add(2*w))
}

// A reservation never settled (its replica died) counts until its hold ends.
func testReserveHoldExpires(t *testing.T, s Store) {
	now := time.Now()
	u := limit("u", 1, time.Hour)
	admit(t, s, attempt("a", u), now)
	refuse(t, s, attempt("b", u), now.Add(10*time.Second-time.Millisecond), 0, true)
	admit(t, s, attempt("c", u), now.Add(10*time.Second))
}

// An attempt is reserved on every limit or on none.
func testReserveEveryLimitOrNone(t *testing.T, s Store) {
	now := time.Now()
	u, ip := limit("u", 5, time.Minute), limit("ip", 1, time.Minute)
	admit(t, s, attempt("a", u, ip), now)
	refuse(t, s, attempt("b", u, ip), now, 1, true)
	// b, refused by ip, left nothing on u: only a is in flight there.
	u2 := limit("u", 2, time.Minute)
	admit(t, s, attempt("c", u2), now)
	refuse(t, s, attempt("d", u2), now, 0, true)
	// Limits are judged in order: the first that refuses is named.
	settle(t, s, attempt("a", u, ip), store.Failed, now)
	refuse(t, s, attempt("e", limit("u", 1, time.Minute), ip), now, 0, false)
}

// A success sets the pass marker for PassTTL; while it is set, waivable
// limits do not judge the attempt but still count its failures, and other
// limits judge it as usual.
func testReservePass(t *testing.T, s Store) {
	now := within(3*time.Hour, 80*time.Minute)
	ip := store.ThrottleLimit{Key: "ip", Max: 1, Window: 3 * time.Hour, Waivable: true}
	// known is an attempt of the pair that may hold the marker, stranger
	// one of another pair; each scenario has a group of its own.
	known := func(group, id string) store.Reservation {
		r := attempt(id, limit("u", 2, 3*time.Hour), ip)
		r.Group, r.Pass, r.PassTTL = group, "u", time.Hour
		return r
	}
	stranger := func(group, id string) store.Reservation {
		r := attempt(id, limit("v", 2, 3*time.Hour), ip)
		r.Group, r.Pass, r.PassTTL = group, "v", time.Hour
		return r
	}
	run := func(r store.Reservation, o store.Outcome, at time.Time) {
		t.Helper()
		admit(t, s, r, at)
		settle(t, s, r, o, at)
	}

	// The marker waives ip; u still judges.
	run(known("A", "a"), store.Succeeded, now)
	run(stranger("A", "b"), store.Failed, now) // ip used up
	refuse(t, s, stranger("A", "c"), now, 1, false)
	run(known("A", "d"), store.Failed, now)
	run(known("A", "e"), store.Failed, now)
	refuse(t, s, known("A", "f"), now, 0, false) // u used up

	// The marker ends after PassTTL.
	run(known("B", "a"), store.Succeeded, now)
	run(stranger("B", "b"), store.Failed, now)
	run(known("B", "c"), store.Withdrawn, now.Add(time.Hour-time.Millisecond))
	refuse(t, s, known("B", "d"), now.Add(time.Hour), 1, false)

	// A waived limit still counts the failure.
	run(known("C", "a"), store.Succeeded, now)
	run(known("C", "b"), store.Failed, now)
	refuse(t, s, stranger("C", "c"), now, 1, false)

	// A success without a PassTTL sets no marker.
	r := known("D", "a")
	r.PassTTL = 0
	run(r, store.Succeeded, now)
	run(stranger("D", "b"), store.Failed, now)
	refuse(t, s, known("D", "c"), now, 1, false)

	// Each success sets the marker anew.
	run(known("E", "a"), store.Succeeded, now)
	run(known("E", "b"), store.Succeeded, now.Add(30*time.Minute))
	run(stranger("E", "c"), store.Failed, now.Add(30*time.Minute))
	run(known("E", "d"), store.Withdrawn, now.Add(80*time.Minute))
}

// Groups, keys and marker names are independent, whatever they hold.
func testReserveGroupsAndKeys(t *testing.T, s Store) {
	now := time.Now()
	for _, g := range []string{"ip:{1}", "ip:%7B1%7D", "ip:2001:db8::/64", "client:ip:1", ""} {
		for _, key := range []string{"u|{x}", "u|%7Bx%7D", "ip"} {
			r := attempt("a", limit(key, 1, time.Minute))
			r.Group, r.Pass, r.PassTTL = g, key+"}", time.Hour
			admit(t, s, r, now)
			settle(t, s, r, store.Failed, now)
		}
	}
	// Same key, another window length: another counter.
	admit(t, s, attempt("b", limit("u|{x}", 1, time.Hour)), now)
}

// Concurrent attempts never take more places than a limit has.
func testReserveConcurrent(t *testing.T, s Store) {
	const n, max = 50, 10
	now := time.Now()
	u := limit("u", max, time.Minute)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			r := attempt(string(rune('A'+i)), u)
			a, err := s.Reserve(t.Context(), r, now)
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			if a.Admitted() {
				admitted.Add(1)
				ids <- r.ID
			}
		})
	}
	wg.Wait()
	close(ids)
	if admitted.Load() != max {
		t.Fatalf("%d concurrent reservations admitted, want %d", admitted.Load(), max)
	}
	for id := range ids {
		wg.Go(func() {
			if err := s.Settle(t.Context(), attempt(id, u), store.Failed, now); err != nil {
				t.Errorf("Settle: %v", err)
			}
		})
	}
	wg.Wait()
	refuse(t, s, attempt("late", u), now, 0, false)
}

func testReserveInvalid(t *testing.T, s Store) {
	now := time.Now()
	ok := attempt("a", limit("u", 1, time.Minute))
	for name, r := range map[string]store.Reservation{
		"no ID":       {Group: "g", Hold: time.Second, Limits: ok.Limits},
		"no hold":     {Group: "g", ID: "a", Limits: ok.Limits},
		"no limit":    {Group: "g", ID: "a", Hold: time.Second},
		"zero max":    attempt("a", limit("u", 0, time.Minute)),
		"zero window": attempt("a", limit("u", 1, 0)),
	} {
		if _, err := s.Reserve(t.Context(), r, now); err == nil {
			t.Errorf("Reserve with %s succeeded", name)
		}
		if err := s.Settle(t.Context(), r, store.Failed, now); err == nil {
			t.Errorf("Settle with %s succeeded", name)
		}
	}
}

// A reservation withdrawn before its Reserve arrives (the caller timed out
// and gave up) is never made: the withdrawal wins, whichever comes first.
func testReserveWithdrawnFirst(t *testing.T, s Store) {
	now := time.Now()
	u := limit("u", 1, time.Minute)
	settle(t, s, attempt("late", u), store.Withdrawn, now)
	if a, err := s.Reserve(t.Context(), attempt("late", u), now.Add(time.Second)); err != nil || a.Admitted() {
		t.Fatalf("Reserve of a withdrawn ID = %+v, %v; want refused", a, err)
	}
	admit(t, s, attempt("other", u), now.Add(time.Second)) // it took no place
	settle(t, s, attempt("other", u), store.Withdrawn, now.Add(time.Second))
	// The mark lasts the hold; the ID may be reserved after that.
	admit(t, s, attempt("late", u), now.Add(10*time.Second))
}
