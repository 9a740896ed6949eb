package redis

import (
	"context"

	"github.com/authstack/authstack/authserver/store"
)

// GetUser returns the record for username, or store.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	return getJSON[store.User](ctx, s.client, "get user", s.keys.user(username))
}

// PutUser creates or replaces the record for u.Username.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	return putIndexed(ctx, s.client, "put user", s.keys.users(), u.Username, s.keys.user(u.Username), u)
}

// DeleteUser removes the record for username, if any.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	return deleteIndexed(ctx, s.client, "delete user", s.keys.users(), username, s.keys.user(username))
}

// ListUsers returns every user record.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return listIndexed[store.User](ctx, s.client, "list users", s.keys.users(), s.keys.user)
}

// GetClient returns the registration for id, or store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	return getJSON[store.Client](ctx, s.client, "get client", s.keys.client(id))
}

// PutClient creates or replaces the registration for c.ID.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	return putIndexed(ctx, s.client, "put client", s.keys.clients(), c.ID, s.keys.client(c.ID), c)
}

// DeleteClient removes the registration for id, if any.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return deleteIndexed(ctx, s.client, "delete client", s.keys.clients(), id, s.keys.client(id))
}

// ListClients returns every client registration.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	return listIndexed[store.Client](ctx, s.client, "list clients", s.keys.clients(), s.keys.client)
}
