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
	"encoding/base64"

	"github.com/authstack/authstack/internal/store"
)

// idSet holds revoked identifiers with the Unix millisecond they may be
// forgotten. Identifiers this server issues (128 random bits, base64url)
// are kept as 16-byte arrays, which halves the memory of a large set;
// anything else is kept as a string.
type idSet struct {
	compact map[[16]byte]int64
	other   map[string]int64
}

func newIDSet() idSet {
	return idSet{compact: make(map[[16]byte]int64), other: make(map[string]int64)}
}

// compactID decodes a 22-character base64url identifier of 16 bytes.
func compactID(id string) (k [16]byte, ok bool) {
	if len(id) != 22 {
		return k, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(k[:], []byte(id))
	return k, err == nil && n == 16
}

func (s idSet) add(id string, until int64) {
	if k, ok := compactID(id); ok {
		if until > s.compact[k] {
			s.compact[k] = until
		}
		return
	}
	if until > s.other[id] {
		s.other[id] = until
	}
}

// revoked reports whether id is revoked at nowMs.
func (s idSet) revoked(id string, nowMs int64) bool {
	var until int64
	if k, ok := compactID(id); ok {
		until = s.compact[k]
	} else {
		until = s.other[id]
	}
	return until > nowMs
}

func (s idSet) len() int { return len(s.compact) + len(s.other) }

// expired lists the identifiers revoked until before beforeMs.
func (s idSet) expired(beforeMs int64) (compact [][16]byte, other []string) {
	for k, until := range s.compact {
		if until < beforeMs {
			compact = append(compact, k)
		}
	}
	for k, until := range s.other {
		if until < beforeMs {
			other = append(other, k)
		}
	}
	return compact, other
}

// forget deletes the listed identifiers that are still revoked until
// before beforeMs (a later revocation of one of them keeps it).
func (s idSet) forget(compact [][16]byte, other []string, beforeMs int64) {
	for _, k := range compact {
		if s.compact[k] < beforeMs {
			delete(s.compact, k)
		}
	}
	for _, k := range other {
		if s.other[k] < beforeMs {
			delete(s.other, k)
		}
	}
}

// state is one consistent picture of the revocation state.
type state struct {
	epoch  string
	jtis   idSet
	grants idSet
	users  map[string]store.UserState
}

func newState(epoch string) *state {
	return &state{epoch: epoch, jtis: newIDSet(), grants: newIDSet(), users: make(map[string]store.UserState)}
}

// apply records one event.
func (st *state) apply(e store.RevocationEvent) {
	switch {
	case e.JTI != "":
		st.jtis.add(e.JTI, e.Until.UnixMilli())
	case e.Grant != "":
		st.grants.add(e.Grant, e.Until.UnixMilli())
	case e.Username != "" && e.User == nil:
		delete(st.users, e.Username)
	case e.Username != "":
		st.users[e.Username] = *e.User
	}
}

// expiredIDs lists what ran out, per set.
type expiredIDs struct {
	jtiCompact, grantCompact [][16]byte
	jtiOther, grantOther     []string
}

func (e expiredIDs) empty() bool {
	return len(e.jtiCompact)+len(e.grantCompact)+len(e.jtiOther)+len(e.grantOther) == 0
}

// expired lists the revocations that ran out before beforeMs.
func (st *state) expired(beforeMs int64) expiredIDs {
	var e expiredIDs
	e.jtiCompact, e.jtiOther = st.jtis.expired(beforeMs)
	e.grantCompact, e.grantOther = st.grants.expired(beforeMs)
	return e
}

// forget deletes what expired listed.
func (st *state) forget(e expiredIDs, beforeMs int64) {
	st.jtis.forget(e.jtiCompact, e.jtiOther, beforeMs)
	st.grants.forget(e.grantCompact, e.grantOther, beforeMs)
}
