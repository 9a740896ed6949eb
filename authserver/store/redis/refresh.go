package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/authserver/store"
)

// createTokenScript stores a token in its family's slot and stretches the
// family metadata's expiry to cover it.
//
// KEYS: family, token. ARGV: data, used, expiry seconds, expiry nanos, gc ms.
var createTokenScript = goredis.NewScript(`
redis.call('HSET', KEYS[2], 'data', ARGV[1], 'used', ARGV[2], 'es', ARGV[3], 'en', ARGV[4])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
local gc = tonumber(ARGV[5])
if gc > tonumber(redis.call('HGET', KEYS[1], 'gc') or '0') then
  redis.call('HSET', KEYS[1], 'gc', ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
end
return 1
`)

// useTokenScript is UseRefreshToken's single atomic step.
//
// KEYS: family, token. ARGV: now seconds, now nanos, revokedFamilyTTL ms.
// Returns {"ok", data}, {"reused", data}, {"revoked", data} or
// {"notfound"|"expired"}.
var useTokenScript = goredis.NewScript(`
local t = redis.call('HMGET', KEYS[2], 'data', 'used', 'es', 'en')
if not t[1] then return {'notfound'} end
if redis.call('HGET', KEYS[1], 'revoked') then return {'revoked', t[1]} end
local es, en = tonumber(t[3]), tonumber(t[4])
local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
if ns > es or (ns == es and nn >= en) then return {'expired'} end
if t[2] == '1' then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  return {'reused', t[1]}
end
redis.call('HSET', KEYS[2], 'used', '1')
return {'ok', t[1]}
`)

// revokeFamilyScript marks a family revoked. The metadata normally already
// expires after the family's last token; if not (no token stored), it gets
// revokedFamilyTTL.
//
// KEYS: family. ARGV: revokedFamilyTTL ms.
var revokeFamilyScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], 'revoked', '1')
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`)

// CreateRefreshToken stores t; store.ErrAlreadyExists if t.Hash is taken.
// Claiming the hash (SET NX on its index key) comes first; if the second
// step fails the caller gets an error and the orphaned index expires.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	const op = "create refresh token"
	used := "0"
	if t.Used {
		used = "1"
	}
	t.Used = false
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	gc := expireAt(t.ExpiresAt, gcGrace)

	err = s.client.SetArgs(ctx, s.keys.refreshIndex(t.Hash), t.Family, goredis.SetArgs{
		Mode:     "NX",
		ExpireAt: time.UnixMilli(gc),
	}).Err()
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("%s: %w", op, store.ErrAlreadyExists)
	}
	if err != nil {
		return unavailable(op, err)
	}

	keys := []string{s.keys.family(t.Family), s.keys.familyToken(t.Family, t.Hash)}
	err = createTokenScript.Run(ctx, s.client, keys,
		data, used, t.ExpiresAt.Unix(), t.ExpiresAt.Nanosecond(), gc).Err()
	if err != nil {
		return unavailable(op, err)
	}
	return nil
}

// UseRefreshToken atomically marks the token used and returns it as it was;
// see the package comment for the checks and their order.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (store.RefreshToken, error) {
	const op = "use refresh token"
	keys, err := s.tokenKeys(ctx, op, hash)
	if err != nil {
		return store.RefreshToken{}, err
	}
	res, err := useTokenScript.Run(ctx, s.client, keys,
		now.Unix(), now.Nanosecond(), revokedFamilyTTL.Milliseconds()).StringSlice()
	if err != nil {
		return store.RefreshToken{}, unavailable(op, err)
	}
	withData := len(res) > 0 && (res[0] == "ok" || res[0] == "reused" || res[0] == "revoked")
	if len(res) == 0 || withData != (len(res) == 2) {
		return store.RefreshToken{}, fmt.Errorf("%s: malformed script reply", op)
	}
	var t store.RefreshToken
	if withData {
		if err := json.Unmarshal([]byte(res[1]), &t); err != nil {
			return store.RefreshToken{}, fmt.Errorf("%s: decode: %w", op, err)
		}
	}
	switch res[0] {
	case "ok":
		return t, nil
	case "reused":
		return t, fmt.Errorf("%s: %w", op, store.ErrTokenReused)
	case "revoked":
		t.Revoked = true
		return t, fmt.Errorf("%s: revoked: %w", op, store.ErrNotFound)
	case "expired":
		return store.RefreshToken{}, fmt.Errorf("%s: %s: %w", op, res[0], store.ErrNotFound)
	default:
		return store.RefreshToken{}, fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
}

// getTokenScript reads a token without using it.
//
// KEYS: family, token. ARGV: now seconds, now nanos.
// Returns {"ok", data, used, revoked} or {"notfound"|"expired"}.
var getTokenScript = goredis.NewScript(`
local t = redis.call('HMGET', KEYS[2], 'data', 'used', 'es', 'en')
if not t[1] then return {'notfound'} end
local es, en = tonumber(t[3]), tonumber(t[4])
local ns, nn = tonumber(ARGV[1]), tonumber(ARGV[2])
if ns > es or (ns == es and nn >= en) then return {'expired'} end
local revoked = '0'
if redis.call('HGET', KEYS[1], 'revoked') then revoked = '1' end
return {'ok', t[1], t[2], revoked}
`)

// GetRefreshToken returns the token without using it.
func (s *Store) GetRefreshToken(ctx context.Context, hash string, now time.Time) (store.RefreshToken, error) {
	const op = "get refresh token"
	keys, err := s.tokenKeys(ctx, op, hash)
	if err != nil {
		return store.RefreshToken{}, err
	}
	res, err := getTokenScript.Run(ctx, s.client, keys, now.Unix(), now.Nanosecond()).StringSlice()
	if err != nil {
		return store.RefreshToken{}, unavailable(op, err)
	}
	if len(res) == 0 || (res[0] == "ok") != (len(res) == 4) {
		return store.RefreshToken{}, fmt.Errorf("%s: malformed script reply", op)
	}
	if res[0] != "ok" {
		return store.RefreshToken{}, fmt.Errorf("%s: %s: %w", op, res[0], store.ErrNotFound)
	}
	var t store.RefreshToken
	if err := json.Unmarshal([]byte(res[1]), &t); err != nil {
		return t, fmt.Errorf("%s: decode: %w", op, err)
	}
	t.Used, t.Revoked = res[2] == "1", res[3] == "1"
	return t, nil
}

// tokenKeys finds the token's family through its index (which never
// changes once written, so a plain GET is safe) and returns the keys of the
// family and the token, for one script on the family's slot.
func (s *Store) tokenKeys(ctx context.Context, op, hash string) ([]string, error) {
	family, err := s.client.Get(ctx, s.keys.refreshIndex(hash)).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(op, err)
	}
	return []string{s.keys.family(family), s.keys.familyToken(family, hash)}, nil
}

// RevokeRefreshFamily makes every token of family, present or future,
// unusable.
func (s *Store) RevokeRefreshFamily(ctx context.Context, family string) error {
	err := revokeFamilyScript.Run(ctx, s.client, []string{s.keys.family(family)},
		revokedFamilyTTL.Milliseconds()).Err()
	if err != nil {
		return unavailable("revoke refresh family", err)
	}
	return nil
}
