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

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
)

// GetUser returns the record for username, or store.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	return one(ctx, s, func(b *batch) func() (store.User, error) { return s.queueGetUser(ctx, b, username) })
}

func (s *Store) queueGetUser(ctx context.Context, b *batch, username string) func() (store.User, error) {
	return queueGetJSON[store.User](ctx, b, "get user", s.keys.user(username))
}

// PutUser writes the user's state (not-before, disabled) with its log
// entry, which every replica's mirror follows, then the record for
// u.Username. The two live on different slots. State first: a disable or a
// revocation reaches the mirrors even if the record write then fails, and
// the failure is retried, because the caller (the controller) compares the
// record, which is still the old one. (Record first, a failed state write
// would leave the record current and the state stale for good.)
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	const op = "put user"
	if err := s.putState(ctx, op, u.Username, u.State(), u.Source); err != nil {
		return err
	}
	return putIndexed(ctx, s.client, op, s.keys.users(), u.Username, s.keys.user(u.Username), u)
}

// DeleteUser removes the user's state, then the record, then its activity:
// tokens are refused first, and a retry after a failure finishes the job
// (for tests: conformance.Store).
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	const op = "delete user"
	if err := s.deleteState(ctx, op, username, ""); err != nil {
		return err
	}
	if err := deleteIndexed(ctx, s.client, op, s.keys.users(), username, s.keys.user(username)); err != nil {
		return err
	}
	return s.forgetActivity(ctx, username)
}

// ListUsers returns every user record.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return listIndexed[store.User](ctx, s.client, "list users", s.keys.users(), s.keys.user)
}

// GetClient returns the registration for id, or store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return one(ctx, s, func(b *batch) func() (store.Client, error) { return s.queueGetClient(ctx, b, id) })
}

func (s *Store) queueGetClient(ctx context.Context, b *batch, id string) func() (store.Client, error) {
	return queueGetJSON[store.Client](ctx, b, "get client", s.keys.client(id))
}

// PutClient writes the client's state (its not-before, under
// store.ClientSubject), then its registration, in PutUser's order and for
// its reasons.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	const op = "put client"
	if err := s.putState(ctx, op, store.ClientSubject(c.ID), c.State(), c.Source); err != nil {
		return err
	}
	return putIndexed(ctx, s.client, op, s.keys.clients(), c.ID, s.keys.client(c.ID), c)
}

// DeleteClient removes the client's state, then its registration, if any
// (for tests: conformance.Store).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	if err := s.deleteState(ctx, op, store.ClientSubject(id), ""); err != nil {
		return err
	}
	return deleteIndexed(ctx, s.client, op, s.keys.clients(), id, s.keys.client(id))
}

// ListClients returns every client registration.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listIndexed[store.Client](ctx, s.client, "list clients", s.keys.clients(), s.keys.client)
}

// deleteFromScript deletes the JSON record at KEYS[1] if its "source" is
// ARGV[1]; it returns 1 when it did. The index entry is removed afterwards,
// outside the script, because the index lives in another hash slot.
var deleteFromScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, rec = pcall(cjson.decode, v)
if not ok or rec.source ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// DeleteUserFrom removes the state and then the record of username, each
// only if source wrote it (the state records its source too), then the
// user's activity. State first, as in DeleteUser; a retry after a failed
// record delete finishes it.
func (s *Store) DeleteUserFrom(ctx context.Context, username, source string) (bool, error) {
	const op = "delete user"
	if source == "" {
		return false, nil
	}
	if err := s.deleteState(ctx, op, username, source); err != nil {
		return false, err
	}
	ok, err := s.deleteFrom(ctx, op, s.keys.users(), username, s.keys.user(username), source)
	if ok && err == nil {
		err = s.forgetActivity(ctx, username)
	}
	return ok, err
}

// DeleteClientFrom removes the state and then the registration of id, each
// only if source wrote it, as DeleteUserFrom does.
func (s *Store) DeleteClientFrom(ctx context.Context, id, source string) (bool, error) {
	const op = "delete client"
	if source == "" {
		return false, nil
	}
	if err := s.deleteState(ctx, op, store.ClientSubject(id), source); err != nil {
		return false, err
	}
	return s.deleteFrom(ctx, op, s.keys.clients(), id, s.keys.client(id), source)
}

func (s *Store) deleteFrom(ctx context.Context, op, index, member, key, source string) (bool, error) {
	n, err := deleteFromScript.Run(ctx, s.client, []string{key}, source).Int()
	if err != nil {
		return false, unavailable(op, err)
	}
	if n == 0 {
		return false, nil
	}
	if err := s.client.SRem(ctx, index, member).Err(); err != nil {
		return true, unavailable(op, err)
	}
	return true, nil
}
