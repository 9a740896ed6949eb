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

package redis

import (
	"strconv"
	"strings"
	"time"
)

// keyspace builds every key the store uses; see the package comment for
// the layout.
type keyspace struct {
	prefix string // escaped
}

func newKeyspace(prefix string) keyspace {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return keyspace{prefix: escape(prefix)}
}

// escaper keeps user input from closing or opening a hash tag. Escaping
// '%' as well keeps the mapping one-to-one.
var escaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

func escape(s string) string { return escaper.Replace(s) }

// tagged returns <prefix>:{tag}, the tag being what Redis Cluster hashes.
func (k keyspace) tagged(tag string) string { return k.prefix + ":{" + tag + "}" }

func (k keyspace) user(name string) string { return k.tagged("user:" + escape(name)) }
func (k keyspace) users() string           { return k.tagged("users") }
func (k keyspace) client(id string) string { return k.tagged("client:" + escape(id)) }
func (k keyspace) clients() string         { return k.tagged("clients") }

// assertion marks a client assertion's ID used, until the assertion
// expires.
func (k keyspace) assertion(id string) string { return k.tagged("jti:" + escape(id)) }

// session holds a refresh-token session: one hash, whatever the number of
// rotations.
func (k keyspace) session(id string) string { return k.tagged("rts:" + escape(id)) }

// userSessions is the sorted set of a user's live sessions, scored by the
// millisecond each expires.
func (k keyspace) userSessions(username string) string { return k.tagged("us:" + escape(username)) }

// lastLogins is the sorted set of username → the millisecond of its last
// successful login.
func (k keyspace) lastLogins() string { return k.tagged("ll") }

// throttles is the sorted set of username → the millisecond the throttle
// refusing its logins ends; throttleLimits, on its slot, the hash of
// username → the limit that refused them.
func (k keyspace) throttles() string      { return k.tagged("tl") }
func (k keyspace) throttleLimits() string { return k.tagged("tl") + ":limits" }

// The revocation state shares one hash tag, so that a change and its log
// entry are written by one script, and the feed reads the epoch and the log
// atomically.

// epoch is the marker whose absence means the data was lost.
func (k keyspace) epoch() string { return k.tagged("rev") + ":epoch" }

// revokedIDs is the sorted set of revoked jtis ("j:<jti>") and grants
// ("g:<sid>"), scored by the millisecond they may be forgotten.
func (k keyspace) revokedIDs() string { return k.tagged("rev") + ":ids" }

// userStates is the hash of username → JSON state (not-before, disabled,
// source): what validation needs of each user, without the password hash.
func (k keyspace) userStates() string { return k.tagged("rev") + ":users" }

// changeLog is the stream of changes to the three keys above.
func (k keyspace) changeLog() string { return k.tagged("rev") + ":log" }

// attempts is the counter of key for window number index of length w.
func (k keyspace) attempts(key string, w time.Duration, index int64) string {
	return k.tagged("throttle:"+escape(key)) + ":" + w.String() + ":" + strconv.FormatInt(index, 10)
}

// The throttle state of one reservation group (a client address) shares
// one tag, so that one script judges an attempt against every limit and
// reserves its place on all of them.
func (k keyspace) attemptGroup(group string) string { return k.tagged("attempts:" + escape(group)) }

// failures is the failure counter of a group's limit for window number
// index of length w.
func (k keyspace) failures(group, key string, w time.Duration, index int64) string {
	return k.attemptGroup(group) + ":f:" + escape(key) + ":" + w.String() + ":" + strconv.FormatInt(index, 10)
}

// reserved is the sorted set of a group's limit's reservations, scored by
// the millisecond their hold ends.
func (k keyspace) reserved(group, key string) string {
	return k.attemptGroup(group) + ":r:" + escape(key)
}

// withdrawn marks a reservation ID withdrawn, until the millisecond held.
func (k keyspace) withdrawn(group, id string) string {
	return k.attemptGroup(group) + ":x:" + escape(id)
}

// pass is a group's marker, holding the millisecond it ends.
func (k keyspace) pass(group, name string) string {
	return k.attemptGroup(group) + ":pass:" + escape(name)
}
