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
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// A session is one hash (see the package comment): "data", the JSON of
// what never changes (sessionData); "gen", "th", "te", the current token's
// generation, hash and expiry (Unix ms); "ae", the latest access-token
// expiry (Unix ms); "rev" once revoked; "rlw", "rlc", the rate limit's
// window and count. The key expires an hour after the later of "te" and
// "ae".

// sessionData is the part of a session that never changes.
type sessionData struct {
	ID           string    `json:"id"`
	ClientID     string    `json:"clientID"`
	ClientSource string    `json:"clientSource,omitempty"`
	Username     string    `json:"username"`
	Scopes       []string  `json:"scopes,omitempty"`
	AuthTime     time.Time `json:"authTime"`
	Credential   int64     `json:"credential,omitempty"`
	Epoch        string    `json:"epoch,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// sessionFields are the fields every script returns, in this order.
const sessionFields = `'data', 'gen', 'th', 'te', 'ae', 'rev'`

// createSessionScript stores a session unless its key exists.
//
// KEYS: session. ARGV: data, gen, th, te, ae, expire-at ms.
var createSessionScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'gen', ARGV[2], 'th', ARGV[3], 'te', ARGV[4], 'ae', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1
`)

// getSessionScript returns the session.
//
// KEYS: session. Returns {"ok", fields...} or {"notfound"}.
var getSessionScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], ` + sessionFields + `)
if not f[1] then return {'notfound'} end
return {'ok', f[1], f[2], f[3], f[4], f[5], f[6] or ''}
`)

// rotateSessionScript is RotateSession's single atomic step; the checks
// run in the order the store interface gives. A retry of a rotation that
// succeeded (the client's MaxRetries after a read timeout) finds its own
// next hash current and is answered as the rotation was.
//
// KEYS: session. ARGV: presented gen, presented hash, next hash, next
// expiry ms, access expiry ms, now ms, max per window, window ms, grace ms.
// Returns {"ok"|"reused"|"revoked", fields...} (the session as it was),
// {"limited", retry-after ms}, or {"notfound"|"expired"|"mismatch"}.
var rotateSessionScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], ` + sessionFields + `, 'rlw', 'rlc')
if not f[1] then return {'notfound'} end
local was = {f[1], f[2], f[3], f[4], f[5], f[6] or ''}
if f[6] == '1' then return {'revoked', unpack(was)} end
local now = tonumber(ARGV[6])
if now >= tonumber(f[4]) then return {'expired'} end
local gen, cur = tonumber(ARGV[1]), tonumber(f[2])
if gen == cur - 1 and f[3] == ARGV[3] then
  -- This very rotation, sent again (go-redis retries a reply it did not
  -- read): answer as it did, without counting it again.
  return {'ok', f[1], tostring(gen), ARGV[2], f[4], f[5], f[6] or ''}
end
if gen < cur then
  redis.call('HSET', KEYS[1], 'rev', '1')
  was[6] = '1'
  return {'reused', unpack(was)}
end
if gen > cur or ARGV[2] ~= f[3] then return {'mismatch'} end
local max = tonumber(ARGV[7])
if max > 0 then
  local window = tonumber(ARGV[8])
  local w = math.floor(now / window)
  local c = 0
  if tonumber(f[7] or '-1') == w then c = tonumber(f[8] or '0') end
  if c >= max then return {'limited', tostring((w + 1) * window - now)} end
  redis.call('HSET', KEYS[1], 'rlw', w, 'rlc', c + 1)
end
local ae = math.max(tonumber(ARGV[5]), tonumber(f[5]))
redis.call('HSET', KEYS[1], 'gen', cur + 1, 'th', ARGV[3], 'te', ARGV[4], 'ae', ae)
redis.call('PEXPIREAT', KEYS[1], math.max(tonumber(ARGV[4]), ae) + tonumber(ARGV[9]))
return {'ok', unpack(was)}
`)

// revokeSessionScript marks a session revoked and returns it. Its key
// already expires after its tokens (see the package comment).
//
// KEYS: session. Returns {"ok", fields...} or {"notfound"}.
var revokeSessionScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
redis.call('HSET', KEYS[1], 'rev', '1')
local f = redis.call('HMGET', KEYS[1], ` + sessionFields + `)
return {'ok', f[1], f[2], f[3], f[4], f[5], f[6]}
`)

// CreateSession stores a new session; store.ErrAlreadyExists if its ID is
// taken.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	_, err := one(ctx, s, func(b *batch) func() (struct{}, error) { return s.queueCreateSession(ctx, b, sess) })
	return err
}

func (s *Store) queueCreateSession(ctx context.Context, b *batch, sess store.Session) func() (struct{}, error) {
	const op = "create session"
	data, err := json.Marshal(sessionData{
		ID: sess.ID, ClientID: sess.ClientID, ClientSource: sess.ClientSource, Username: sess.Username, Scopes: sess.Scopes,
		AuthTime: sess.AuthTime, Credential: sess.Credential, Epoch: sess.Epoch,
		CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt,
	})
	if err != nil {
		return func() (struct{}, error) { return struct{}{}, fmt.Errorf("%s: encode: %w", op, err) }
	}
	te, ae := sess.TokenExpiresAt.UnixMilli(), sess.AccessExpiresAt.UnixMilli()
	cmd := b.script(ctx, createSessionScript, []string{s.keys.session(sess.ID)},
		data, sess.Generation, sess.TokenHash, te, ae, max(te, ae)+gcGrace.Milliseconds())
	return func() (struct{}, error) {
		n, err := cmd.Int()
		if err != nil {
			return struct{}{}, unavailable(op, err)
		}
		if n == 0 {
			return struct{}{}, fmt.Errorf("%s: %w", op, store.ErrAlreadyExists)
		}
		return struct{}{}, nil
	}
}

// GetSession returns the session.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	return one(ctx, s, func(b *batch) func() (store.Session, error) { return s.queueGetSession(ctx, b, id) })
}

func (s *Store) queueGetSession(ctx context.Context, b *batch, id string) func() (store.Session, error) {
	cmd := b.script(ctx, getSessionScript, []string{s.keys.session(id)})
	return func() (store.Session, error) { return sessionReply("get session", cmd) }
}

// RotateSession exchanges the session's current token for the next one.
func (s *Store) RotateSession(ctx context.Context, id string, r store.Rotation, now time.Time) (store.Session, error) {
	return one(ctx, s, func(b *batch) func() (store.Session, error) { return s.queueRotateSession(ctx, b, id, r, now) })
}

func (s *Store) queueRotateSession(ctx context.Context, b *batch, id string, r store.Rotation, now time.Time) func() (store.Session, error) {
	cmd := b.script(ctx, rotateSessionScript, []string{s.keys.session(id)},
		r.Generation, r.TokenHash, r.NextHash, r.NextExpiresAt.UnixMilli(), r.AccessExpiresAt.UnixMilli(),
		now.UnixMilli(), max(r.MaxPerWindow, 0), max(r.Window.Milliseconds(), 1), gcGrace.Milliseconds())
	return func() (store.Session, error) { return rotation(cmd) }
}

// rotation reads rotateSessionScript's reply.
func rotation(cmd *goredis.Cmd) (store.Session, error) {
	const op = "rotate session"
	res, err := cmd.StringSlice()
	if err != nil {
		return store.Session{}, unavailable(op, err)
	}
	if len(res) == 0 {
		return store.Session{}, fmt.Errorf("%s: malformed script reply", op)
	}
	switch res[0] {
	case "ok", "reused", "revoked":
		sess, err := decodeSession(op, res[1:])
		switch {
		case err != nil:
			return store.Session{}, err
		case res[0] == "reused":
			return sess, fmt.Errorf("%s: %w", op, store.ErrTokenReused)
		case res[0] == "revoked":
			return sess, fmt.Errorf("%s: revoked: %w", op, store.ErrNotFound)
		}
		return sess, nil
	case "limited":
		ms, err := strconv.ParseInt(res[1], 10, 64)
		if len(res) != 2 || err != nil {
			return store.Session{}, fmt.Errorf("%s: malformed script reply", op)
		}
		return store.Session{}, fmt.Errorf("%s: %w", op, &store.RateLimitError{RetryAfter: time.Duration(ms) * time.Millisecond})
	}
	return store.Session{}, fmt.Errorf("%s: %s: %w", op, res[0], store.ErrNotFound)
}

// RevokeSession marks the session revoked and returns it.
func (s *Store) RevokeSession(ctx context.Context, id string) (store.Session, error) {
	const op = "revoke session"
	return sessionReply(op, revokeSessionScript.Run(ctx, s.client, []string{s.keys.session(id)}))
}

// sessionReply reads a script's {"ok", fields...} or {"notfound"}.
func sessionReply(op string, cmd *goredis.Cmd) (store.Session, error) {
	res, err := cmd.StringSlice()
	if err != nil {
		return store.Session{}, unavailable(op, err)
	}
	if len(res) == 0 || res[0] != "ok" {
		return store.Session{}, fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return decodeSession(op, res[1:])
}

// decodeSession assembles a session from the script's fields: data, gen,
// th, te, ae, rev.
func decodeSession(op string, f []string) (store.Session, error) {
	if len(f) != 6 {
		return store.Session{}, fmt.Errorf("%s: malformed script reply", op)
	}
	var d sessionData
	if err := json.Unmarshal([]byte(f[0]), &d); err != nil {
		return store.Session{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	gen, err1 := strconv.ParseUint(f[1], 10, 64)
	te, err2 := strconv.ParseInt(f[3], 10, 64)
	ae, err3 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return store.Session{}, fmt.Errorf("%s: malformed session fields", op)
	}
	return store.Session{
		ID: d.ID, ClientID: d.ClientID, ClientSource: d.ClientSource, Username: d.Username, Scopes: d.Scopes,
		AuthTime: d.AuthTime, Credential: d.Credential, Epoch: d.Epoch, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt,
		Generation: gen, TokenHash: f[2], TokenExpiresAt: time.UnixMilli(te), AccessExpiresAt: time.UnixMilli(ae),
		Revoked: f[5] == "1",
	}, nil
}

// addUserSessionScript counts a session among its user's, forgets the
// expired ones, and pops those beyond the limit, the soonest to expire
// first.
//
// KEYS: userSessions. ARGV: session ID, expiry ms, max, now ms, grace ms.
var addUserSessionScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local evicted = {}
local max = tonumber(ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if max > 0 and n > max then
  evicted = redis.call('ZRANGE', KEYS[1], 0, n - max - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]) + tonumber(ARGV[5])) end
return evicted
`)

// AddUserSession counts the session among the user's and returns those
// beyond max.
func (s *Store) AddUserSession(ctx context.Context, username, id string, expires time.Time, max int, now time.Time) ([]string, error) {
	return one(ctx, s, func(b *batch) func() ([]string, error) {
		return s.queueAddUserSession(ctx, b, username, id, expires, max, now)
	})
}

func (s *Store) queueAddUserSession(ctx context.Context, b *batch, username, id string, expires time.Time, max int, now time.Time) func() ([]string, error) {
	cmd := b.script(ctx, addUserSessionScript, []string{s.keys.userSessions(username)},
		id, expires.UnixMilli(), max, now.UnixMilli(), gcGrace.Milliseconds())
	return func() ([]string, error) {
		evicted, err := cmd.StringSlice()
		if err != nil {
			return nil, unavailable("add user session", err)
		}
		return evicted, nil
	}
}
