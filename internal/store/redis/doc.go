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

// Package redis is a store.Store on Redis, for running several token server
// replicas and the controller against one shared state.
//
// # Key layout
//
// Every key starts with the prefix (default "authstack") and carries a
// Redis Cluster hash tag in braces. Keys that one Lua script touches share
// their tag, so every script runs on a single slot; everything else is a
// single-key command. User input inside a key (names, ids, hashes, jtis,
// throttle keys, and the prefix itself) is escaped ('%' → %25, '{' → %7B,
// '}' → %7D) so that it can neither break out of a tag nor collide.
//
//	key                               type    contents                        expiry (PEXPIREAT)
//	<p>:{user:<name>}                 string  JSON store.User                 none
//	<p>:{users}                       set     usernames, for ListUsers        none
//	<p>:{client:<id>}                 string  JSON store.Client               none
//	<p>:{clients}                     set     client ids, for ListClients     none
//	<p>:{rts:<sid>}                   hash    a refresh session (see below)   later of token, access expiry + 1h
//	<p>:{rev}:ids                     zset    j:<jti>, g:<sid> → until (ms)   entries dropped 1h after until
//	<p>:{rev}:users                   hash    username → JSON state           none
//	<p>:{rev}:log                     stream  one entry per change            capped (MAXLEN ~)
//	<p>:{rev}:epoch                   string  the epoch marker                none
//	<p>:{throttle:<key>}:<w>:<index>  string  AddAttempt counter              window end + w + 1m
//	<p>:{attempts:<g>}:f:<k>:<w>:<i>  string  failures of limit k of group g  window end + w + 1m
//	<p>:{attempts:<g>}:r:<k>          zset    reservation ID → hold end (ms)  last hold end + 1m
//	<p>:{attempts:<g>}:pass:<name>    string  the marker's end (ms)           its end + 1m
//	<p>:{attempts:<g>}:x:<id>         string  a withdrawn ID's hold end (ms)  that time + 1m
//	<p>:{ll}                          zset    username → last login (ms)      none
//	<p>:{tl}                          zset    username → throttle end (ms)    last end + 1m
//	<p>:{tl}:limits                   hash    username → the throttle limit   last end + 1m
//
// Users and clients live on their own slots; the name sets are updated by
// a second command, so a crash between the two can leave a name without a
// record, which ListUsers and ListClients skip. Writes add the name before
// the record and deletes remove the record before the name, so a record is
// never left out of its set.
//
// # Refresh sessions
//
// A session is one hash, whatever the number of rotations: "data", the JSON
// of what never changes (client, user, scopes, auth time, credential mark,
// epoch, creation, absolute end); "gen", "th", "te", the current refresh
// token's generation, SHA-256 of its secret, and expiry (Unix ms); "ae",
// the latest access-token expiry (Unix ms); "rev" once revoked; "rlw" and
// "rlc", the rate limit's window and count. One Lua script rotates: it
// checks, in order, that the session exists, is not revoked, that now is
// before "te", that the presented generation is not an earlier one (reuse:
// it sets "rev"), that it is the current one with the current hash, and the
// rate limit, then moves "gen", "th", "te" and "ae" on. Of concurrent
// rotations with one token exactly one succeeds. The key expires an hour
// after the later of "te" and "ae", so a revoked session is kept as long as
// its access tokens live.
//
// # Revocation feed
//
// The four {rev} keys share a slot. Every revocation and every change of
// a user's state (not-before, disabled) is written with its log entry by
// one script; LoadRevocations scans the sorted set and the hash after
// reading the log's position, and ReadRevocations reads the epoch, the
// log's position (XINFO STREAM) and the entries after a cursor in one
// script, so a reader can tell a new epoch, a trimmed log and a log that
// went backwards (a rolled-back Redis) apart from "nothing new".
//
// # Throttle reservations
//
// A reservation group is one client address: its limits' failure counters
// and reservation sets, and its pass markers, share the group's tag, so one
// script drops expired reservations, reads the marker, judges every limit
// (failures + reservations < max) and adds the reservation to every set,
// or to none; another removes it and counts a failure or sets the marker.
// Reservations are scored by the caller's clock, so a reservation that is
// never settled stops counting when its hold ends, whatever Redis's clock.
//
// Decisions about time use the caller's now. The Redis clock is only used
// to collect garbage, with the margins above so that moderate clock skew
// never deletes a record that is still being judged.
package redis
