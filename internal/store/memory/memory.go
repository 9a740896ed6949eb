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

// Package memory is an in-memory store.Store for tests and single-replica
// development. It is safe for concurrent use, never shares slices with its
// callers, and keeps every record until it is deleted: expired sessions and
// past throttle windows are only judged, not collected, except that a
// throttle key keeps at most two windows and expired reservations and
// markers are dropped.
package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/authstack/authstack/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store holds every record in maps guarded by one mutex.
type Store struct {
	mu               sync.Mutex
	users            map[string]store.User
	clients          map[string]store.Client
	sessions         map[string]*session
	userSessions     map[string]map[string]time.Time // username → session ID → expiry
	revokedJTIs      map[string]time.Time
	assertions       map[string]time.Time
	assertionSweepAt int
	revokedGrants    map[string]time.Time
	log              changeLog
	attempts         map[counterKey]map[int64]int64
	sweepAt          int                               // len(attempts) at which expired counters are swept
	reservations     map[groupKey]map[string]time.Time // id → end of hold
	passes           map[groupKey]time.Time            // marker → expiry
	passSweepAt      int
	withdrawn        map[groupKey]time.Time // reservation ID → end of its hold
	withdrawnSweepAt int
	epoch            string
	lastLogins       map[string]time.Time      // username → last login
	throttles        map[string]store.Throttle // username → throttle in force
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		users:         make(map[string]store.User),
		clients:       make(map[string]store.Client),
		sessions:      make(map[string]*session),
		userSessions:  make(map[string]map[string]time.Time),
		revokedJTIs:   make(map[string]time.Time),
		assertions:    make(map[string]time.Time),
		revokedGrants: make(map[string]time.Time),
		attempts:      make(map[counterKey]map[int64]int64),
		reservations:  make(map[groupKey]map[string]time.Time),
		passes:        make(map[groupKey]time.Time),
		withdrawn:     make(map[groupKey]time.Time),
		lastLogins:    make(map[string]time.Time),
		throttles:     make(map[string]store.Throttle),
	}
}

// Ping always succeeds.
func (s *Store) Ping(context.Context) error { return nil }

// Close does nothing; the Store stays usable.
func (s *Store) Close() error { return nil }

// clone copies a slice so that the store and its callers never share one.
// Empty slices become nil, as they do after a JSON round trip.
func clone[T any](in []T) []T {
	if len(in) == 0 {
		return nil
	}
	return slices.Clone(in)
}
