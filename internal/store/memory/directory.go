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

package memory

import (
	"context"
	"fmt"

	"github.com/authstack/authstack/internal/store"
)

// GetUser returns a copy of the record for username.
func (s *Store) GetUser(_ context.Context, username string) (store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return store.User{}, fmt.Errorf("get user %q: %w", username, store.ErrNotFound)
	}
	return copyUser(u), nil
}

// PutUser stores a copy of u.
func (s *Store) PutUser(_ context.Context, u store.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old *store.UserState
	if o, ok := s.users[u.Username]; ok {
		old = ptr(o.State())
	}
	s.users[u.Username] = copyUser(u)
	s.stateChanged(u.Username, old, ptr(u.State()))
	return nil
}

// DeleteUser removes the record for username, if any (for tests:
// conformance.Store).
func (s *Store) DeleteUser(_ context.Context, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.users[username]; ok {
		delete(s.users, username)
		s.stateChanged(username, ptr(o.State()), nil)
	}
	s.forgetActivity(username)
	return nil
}

// DeleteUserFrom removes the record if source wrote it.
func (s *Store) DeleteUserFrom(_ context.Context, username, source string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok || source == "" || u.Source != source {
		return false, nil
	}
	delete(s.users, username)
	s.stateChanged(username, ptr(u.State()), nil)
	s.forgetActivity(username)
	return true, nil
}

// ListUsers returns copies of every user record.
func (s *Store) ListUsers(context.Context) ([]store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, copyUser(u))
	}
	return out, nil
}

// GetClient returns a copy of the registration for id.
func (s *Store) GetClient(_ context.Context, id string) (store.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return store.Client{}, fmt.Errorf("get client %q: %w", id, store.ErrNotFound)
	}
	return copyClient(c), nil
}

// PutClient stores a copy of c.
func (s *Store) PutClient(_ context.Context, c store.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old *store.UserState
	if o, ok := s.clients[c.ID]; ok {
		old = ptr(o.State())
	}
	s.clients[c.ID] = copyClient(c)
	s.stateChanged(store.ClientSubject(c.ID), old, ptr(c.State()))
	return nil
}

// DeleteClient removes the registration for id, if any (for tests:
// conformance.Store).
func (s *Store) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.clients[id]; ok {
		delete(s.clients, id)
		s.stateChanged(store.ClientSubject(id), ptr(o.State()), nil)
	}
	return nil
}

// DeleteClientFrom removes the registration if source wrote it.
func (s *Store) DeleteClientFrom(_ context.Context, id, source string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || source == "" || c.Source != source {
		return false, nil
	}
	delete(s.clients, id)
	s.stateChanged(store.ClientSubject(id), ptr(c.State()), nil)
	return true, nil
}

// ListClients returns copies of every client registration.
func (s *Store) ListClients(context.Context) ([]store.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, copyClient(c))
	}
	return out, nil
}

func copyUser(u store.User) store.User {
	u.Scopes = clone(u.Scopes)
	u.Groups = clone(u.Groups)
	return u
}

func copyClient(c store.Client) store.Client {
	c.GrantTypes = clone(c.GrantTypes)
	c.Scopes = clone(c.Scopes)
	c.Audiences = clone(c.Audiences)
	if c.ServiceAccount != nil {
		c.ServiceAccount = ptr(*c.ServiceAccount)
	}
	return c
}

func ptr[T any](v T) *T { return &v }
