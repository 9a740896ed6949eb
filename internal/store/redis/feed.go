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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// DefaultChangeLogLength keeps about 100,000 changes in the log: hours of
// revocations at a busy site, for replicas that reconnect.
const DefaultChangeLogLength = 100_000

func logLength(n int64) int64 {
	if n <= 0 {
		return DefaultChangeLogLength
	}
	return n
}

// scanBatch is the COUNT hint of the scans that load the state.
const scanBatch = 1000

// headLua reads the epoch and the log's position: the last ID it ever
// generated, its first entry, and whether entries were trimmed (more were
// added than it holds). Redis 7.0's XINFO STREAM gives all three.
const headLua = `
local epoch = redis.call('GET', KEYS[1]) or ''
if redis.call('EXISTS', KEYS[2]) == 0 then return {epoch, '', '', '0'} end
local info = redis.call('XINFO', 'STREAM', KEYS[2])
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i+1] end
local trimmed = '0'
if tonumber(f['entries-added']) > tonumber(f['length']) then trimmed = '1' end
local head = {epoch, f['last-generated-id'], f['recorded-first-entry-id'], trimmed}
`

// headScript returns the head only.
//
// KEYS: epoch, changeLog. Returns {epoch or "", last-generated-id or "",
// first entry id, "1" if trimmed}.
var headScript = goredis.NewScript(headLua + "return head")

// readScript returns the head and the entries after a cursor, so that the
// epoch, the log's position and the entries are one consistent reading.
//
// KEYS: epoch, changeLog. ARGV: cursor, count.
//
// It also reports whether the entry at the cursor still exists: a store
// rolled back to before it, and written to since, has a later last ID but
// not that entry.
var readScript = goredis.NewScript(headLua + `
head[5] = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
head[6] = '1'
if ARGV[1] ~= '0-0' and #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then head[6] = '0' end
return head`)

// streamID is a parsed stream entry ID, ordered as Redis orders them.
type streamID struct{ ms, seq uint64 }

// zeroID is the cursor of an empty log.
const zeroID = "0-0"

func parseID(s string) (streamID, error) {
	if s == "" {
		return streamID{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("bad stream id %q", s)
	}
	return streamID{ms, seq}, nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq)
}

// LoadRevocations reads the epoch and the log position, then scans the
// revoked ids and the user states. Changes during the scans are logged
// after the cursor, so ReadRevocations replays them.
func (s *Store) LoadRevocations(ctx context.Context, now time.Time, fn func(store.RevocationEvent)) (string, string, error) {
	const op = "load revocations"
	res, err := headScript.Run(ctx, s.client, []string{s.keys.epoch(), s.keys.changeLog()}).StringSlice()
	if err != nil {
		return "", "", unavailable(op, err)
	}
	if len(res) != 4 {
		return "", "", fmt.Errorf("%s: malformed script reply", op)
	}
	epoch, cursor := res[0], res[1]
	if cursor == "" {
		cursor = zeroID
	}
	nowMs := now.UnixMilli()
	iter := s.client.ZScan(ctx, s.keys.revokedIDs(), 0, "", scanBatch).Iterator()
	for iter.Next(ctx) {
		member := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		ms, err := strconv.ParseFloat(iter.Val(), 64)
		if err != nil || int64(ms) <= nowMs {
			continue
		}
		kind, id, _ := strings.Cut(member, ":")
		if e, ok := revocation(kind, id, int64(ms)); ok {
			fn(e)
		}
	}
	if err := iter.Err(); err != nil {
		return "", "", unavailable(op, err)
	}
	iter = s.client.HScan(ctx, s.keys.userStates(), 0, "", scanBatch).Iterator()
	for iter.Next(ctx) {
		name := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		st, err := decodeState(iter.Val())
		if err != nil {
			// A state that cannot be read rejects the user's tokens: no state.
			continue
		}
		fn(store.RevocationEvent{Username: name, User: &st})
	}
	if err := iter.Err(); err != nil {
		return "", "", unavailable(op, err)
	}
	return epoch, cursor, nil
}

// ReadRevocations returns the changes after cursor.
func (s *Store) ReadRevocations(ctx context.Context, epoch, cursor string, max int) ([]store.RevocationEvent, string, error) {
	const op = "read revocations"
	at, err := parseID(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w: %w", op, store.ErrFeedReset, err)
	}
	if max <= 0 {
		max = 1000
	}
	raw, err := readScript.Run(ctx, s.client, []string{s.keys.epoch(), s.keys.changeLog()}, cursor, max).Slice()
	if err != nil {
		return nil, "", unavailable(op, err)
	}
	if len(raw) != 4 && len(raw) != 6 {
		return nil, "", fmt.Errorf("%s: malformed script reply", op)
	}
	head := make([]string, 4)
	for i := range head {
		head[i], _ = raw[i].(string)
	}
	last, err1 := parseID(head[1])
	first, err2 := parseID(head[2])
	if err := errors.Join(err1, err2); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case head[0] != epoch:
		return nil, "", fmt.Errorf("%s: epoch changed: %w", op, store.ErrFeedReset)
	case last.less(at):
		// Includes a log that is gone while the epoch stayed: the store
		// was restored to a point before the changes this reader saw.
		return nil, "", fmt.Errorf("%s: log at %s, reader at %s: %w", op, head[1], cursor, store.ErrRolledBack)
	case head[3] == "1" && at.less(first):
		// Entries were trimmed and the cursor is before the oldest left:
		// some of the changes after it may be gone.
		return nil, "", fmt.Errorf("%s: trimmed past the cursor: %w", op, store.ErrFeedReset)
	case len(raw) == 6 && raw[5] == "0":
		// The entry the reader stopped at is gone, though the log was not
		// trimmed past it: the store went back to before it and has been
		// written to since.
		return nil, "", fmt.Errorf("%s: the entry at %s is gone: %w", op, cursor, store.ErrRolledBack)
	}
	var entries []any
	if len(raw) == 6 {
		entries, _ = raw[4].([]any)
	}
	out := make([]store.RevocationEvent, 0, len(entries))
	next := cursor
	for _, x := range entries {
		id, fields, err := decodeEntry(x)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
		next = id
		written, err := parseID(id)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
		if e, ok := changeEvent(fields); ok {
			// An entry's ID is the Redis server's clock, in milliseconds,
			// when it was added.
			e.Written = time.UnixMilli(int64(written.ms))
			out = append(out, e)
		}
	}
	return out, next, nil
}

// WaitRevocations blocks on XREAD until an entry after cursor exists.
func (s *Store) WaitRevocations(ctx context.Context, cursor string, wait time.Duration) error {
	err := s.client.XRead(ctx, &goredis.XReadArgs{
		Streams: []string{s.keys.changeLog(), cursor},
		Count:   1,
		Block:   max(wait, time.Millisecond),
	}).Err()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return unavailable("wait revocations", err)
	}
	return nil
}

// decodeEntry splits an XRANGE entry, [id, [field, value, ...]].
func decodeEntry(x any) (string, map[string]string, error) {
	pair, ok := x.([]any)
	if !ok || len(pair) != 2 {
		return "", nil, errors.New("malformed log entry")
	}
	id, _ := pair[0].(string)
	kv, _ := pair[1].([]any)
	fields := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		v, _ := kv[i+1].(string)
		fields[k] = v
	}
	if id == "" {
		return "", nil, errors.New("malformed log entry")
	}
	return id, fields, nil
}

// changeEvent turns a log entry's fields into an event; entries of an
// unknown kind (a newer writer) are skipped.
func changeEvent(f map[string]string) (store.RevocationEvent, bool) {
	switch f["k"] {
	case kindJTI, kindGrant:
		ms, err := strconv.ParseInt(f["t"], 10, 64)
		if err != nil {
			return store.RevocationEvent{}, false
		}
		return revocation(f["k"], f["id"], ms)
	case kindUser:
		e := store.RevocationEvent{Username: f["id"]}
		if f["s"] != "" {
			st, err := decodeState(f["s"])
			if err != nil {
				// Unreadable: treat as no state, which rejects the tokens.
				return e, true
			}
			e.User = &st
		}
		return e, true
	}
	return store.RevocationEvent{}, false
}

func revocation(kind, id string, ms int64) (store.RevocationEvent, bool) {
	until := time.UnixMilli(ms)
	switch kind {
	case kindJTI:
		return store.RevocationEvent{JTI: id, Until: until}, true
	case kindGrant:
		return store.RevocationEvent{Grant: id, Until: until}, true
	}
	return store.RevocationEvent{}, false
}

// stateRecord is a user's state in <p>:{rev}:users and in the log.
type stateRecord struct {
	NotBefore time.Time `json:"nbf,omitzero"`
	Disabled  bool      `json:"d,omitempty"`
	Source    string    `json:"src,omitempty"`
}

func encodeState(st store.UserState, source string) (string, error) {
	b, err := json.Marshal(stateRecord{NotBefore: st.NotBefore.UTC(), Disabled: st.Disabled, Source: source})
	return string(b), err
}

func decodeState(s string) (store.UserState, error) {
	var r stateRecord
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return store.UserState{}, err
	}
	return store.UserState{NotBefore: r.NotBefore, Disabled: r.Disabled}, nil
}

// putStateScript sets a user's state and logs it, when it changed.
//
// KEYS: userStates, changeLog. ARGV: username, state, log length.
var putStateScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'u', 'id', ARGV[1], 's', ARGV[2])
return 1
`)

// deleteStateScript removes a user's state and logs it; with a source,
// only the state that source wrote.
//
// KEYS: userStates, changeLog. ARGV: username, source or "", log length.
var deleteStateScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if ARGV[2] ~= '' then
  local ok, st = pcall(cjson.decode, cur)
  if ok and st.src ~= ARGV[2] then return 0 end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'u', 'id', ARGV[1], 's', '')
return 1
`)

// putState writes the state of name, a username or a store.ClientSubject.
func (s *Store) putState(ctx context.Context, op, name string, state store.UserState, source string) error {
	st, err := encodeState(state, source)
	if err != nil {
		return fmt.Errorf("%s: encode state: %w", op, err)
	}
	err = putStateScript.Run(ctx, s.client, []string{s.keys.userStates(), s.keys.changeLog()},
		name, st, s.logLen).Err()
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

func (s *Store) deleteState(ctx context.Context, op, username, source string) error {
	err := deleteStateScript.Run(ctx, s.client, []string{s.keys.userStates(), s.keys.changeLog()},
		username, source, s.logLen).Err()
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}
