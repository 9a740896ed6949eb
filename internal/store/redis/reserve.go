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
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// reserveScript judges an attempt against every limit and, when all admit
// it, reserves its place on each: one step, so two attempts never both take
// a limit's last place. Expired reservations are dropped first; a refusal
// writes nothing else.
//
// KEYS: the pass marker, the reservation's withdrawal mark, then per limit
// its failure counter (the window containing now) and its reservation set.
// ARGV: now ms, the hold's end ms, the reservation ID, "1" to consult the
// marker, the grace ms of the sets' expiry, then per limit its max and "1"
// if it is waivable. Returns the index of the refusing limit (-1: admitted)
// and 1 when only reservations in flight refused; a withdrawn ID is refused
// by its first limit.
var reserveScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local gone = redis.call('GET', KEYS[2])
if gone and tonumber(gone) > now then return {0, 0} end
local passed = false
if ARGV[4] == '1' then
  local p = redis.call('GET', KEYS[1])
  passed = p and tonumber(p) > now
end
local n = (#KEYS - 2) / 2
for i = 1, n do
  local held = KEYS[2*i+2]
  redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
  if not (passed and ARGV[5+2*i] == '1') then
    local max = tonumber(ARGV[4+2*i])
    local failures = tonumber(redis.call('GET', KEYS[2*i+1]) or '0')
    if failures >= max then return {i-1, 0} end
    if failures + redis.call('ZCARD', held) >= max then return {i-1, 1} end
  end
end
for i = 1, n do
  local held = KEYS[2*i+2]
  redis.call('ZADD', held, ARGV[2], ARGV[3])
  local last = redis.call('ZRANGE', held, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', held, tonumber(last[2]) + tonumber(ARGV[5]))
end
return {-1, 0}
`)

// settleScript ends a reservation on every limit, counting a failure on
// each (outcome "2"), setting the pass marker (outcome "1"), or marking the
// ID withdrawn until the hold's end (outcome "0"), should its Reserve
// arrive later.
//
// KEYS: as reserveScript's, the failure counters of the window containing
// the settling now. ARGV: the reservation ID, the outcome, the marker's end
// ms ("0": none), the marker's expiry ms, the hold's end ms, the mark's
// expiry ms, then per limit its counter's expiry ms.
var settleScript = goredis.NewScript(`
local n = (#KEYS - 2) / 2
for i = 1, n do
  redis.call('ZREM', KEYS[2*i+2], ARGV[1])
  if ARGV[2] == '2' then
    redis.call('INCR', KEYS[2*i+1])
    redis.call('PEXPIREAT', KEYS[2*i+1], ARGV[6+i])
  end
end
if ARGV[2] == '1' and ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
end
if ARGV[2] == '0' then
  redis.call('SET', KEYS[2], ARGV[5], 'PXAT', ARGV[6])
end
return 0
`)

// reservationKeys lists a reservation's keys in the scripts' order, with
// the failure counters of the windows containing now.
func (s *Store) reservationKeys(r store.Reservation, now time.Time) []string {
	keys := []string{s.keys.pass(r.Group, r.Pass), s.keys.withdrawn(r.Group, r.ID)}
	for _, l := range r.Limits {
		keys = append(keys, s.keys.failures(r.Group, l.Key, l.Window, store.WindowIndex(now, l.Window)),
			s.keys.reserved(r.Group, l.Key))
	}
	return keys
}

// Reserve judges the attempt and reserves its place in one script on the
// group's slot.
func (s *Store) Reserve(ctx context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	if err := r.Validate(); err != nil {
		return store.Admission{}, err
	}
	return one(ctx, s, func(b *batch) func() (store.Admission, error) { return s.queueReserve(ctx, b, r, now) })
}

func (s *Store) queueReserve(ctx context.Context, b *batch, r store.Reservation, now time.Time) func() (store.Admission, error) {
	const op = "reserve attempt"
	usePass := "0"
	if r.Pass != "" {
		usePass = "1"
	}
	args := []any{now.UnixMilli(), now.Add(r.Hold).UnixMilli(), r.ID, usePass, throttleGrace.Milliseconds()}
	for _, l := range r.Limits {
		args = append(args, l.Max, flag(l.Waivable))
	}
	cmd := b.script(ctx, reserveScript, s.reservationKeys(r, now), args...)
	return func() (store.Admission, error) {
		res, err := cmd.Int64Slice()
		if err != nil {
			return store.Admission{}, unavailable(op, err)
		}
		if len(res) != 2 || res[0] < -1 || res[0] >= int64(len(r.Limits)) {
			return store.Admission{}, fmt.Errorf("%s: malformed script reply", op)
		}
		return store.Admission{Refused: int(res[0]), InFlight: res[1] == 1}, nil
	}
}

// Settle ends the reservation in one script on the group's slot.
func (s *Store) Settle(ctx context.Context, r store.Reservation, outcome store.Outcome, now time.Time) error {
	if err := r.Validate(); err != nil {
		return err
	}
	_, err := one(ctx, s, func(b *batch) func() (struct{}, error) { return s.queueSettle(ctx, b, r, outcome, now) })
	return err
}

func (s *Store) queueSettle(ctx context.Context, b *batch, r store.Reservation, outcome store.Outcome, now time.Time) func() (struct{}, error) {
	passUntil, passGC := int64(0), int64(0)
	if outcome == store.Succeeded && r.Pass != "" && r.PassTTL > 0 {
		until := now.Add(r.PassTTL)
		passUntil, passGC = max(until.UnixMilli(), 1), expireAt(until, throttleGrace)
	}
	holdEnd := now.Add(r.Hold)
	args := []any{r.ID, strconv.Itoa(int(outcome)), passUntil, passGC, max(holdEnd.UnixMilli(), 1), expireAt(holdEnd, throttleGrace)}
	for _, l := range r.Limits {
		end := time.Unix(0, 0).Add(time.Duration(store.WindowIndex(now, l.Window)+1) * l.Window)
		args = append(args, expireAt(end, l.Window+throttleGrace))
	}
	cmd := b.script(ctx, settleScript, s.reservationKeys(r, now), args...)
	return func() (struct{}, error) {
		if err := cmd.Err(); err != nil {
			return struct{}{}, unavailable("settle attempt", err)
		}
		return struct{}{}, nil
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
