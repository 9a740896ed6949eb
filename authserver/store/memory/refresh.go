package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/authstack/authstack/authserver/store"
)

// CreateRefreshToken stores a copy of t unless t.Hash is taken. A token
// created in a revoked family is stored but can never be used.
func (s *Store) CreateRefreshToken(_ context.Context, t store.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[t.Hash]; ok {
		return fmt.Errorf("create refresh token: %w", store.ErrAlreadyExists)
	}
	s.tokens[t.Hash] = copyToken(t)
	return nil
}

// UseRefreshToken marks the token as used and returns it as it was. The
// checks run in the same order as in every backend: unknown, revoked
// family, expired (now >= ExpiresAt), already used.
func (s *Store) UseRefreshToken(_ context.Context, hash string, now time.Time) (store.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return store.RefreshToken{}, fmt.Errorf("use refresh token: %w", store.ErrNotFound)
	}
	if _, revoked := s.revokedFamilies[t.Family]; revoked {
		t = copyToken(t)
		t.Revoked = true
		return t, fmt.Errorf("use refresh token: family revoked: %w", store.ErrNotFound)
	}
	if !now.Before(t.ExpiresAt) {
		return store.RefreshToken{}, fmt.Errorf("use refresh token: expired: %w", store.ErrNotFound)
	}
	if t.Used {
		s.revokedFamilies[t.Family] = struct{}{}
		return copyToken(t), fmt.Errorf("use refresh token: %w", store.ErrTokenReused)
	}
	used := t
	used.Used = true
	s.tokens[hash] = used
	return copyToken(t), nil
}

// GetRefreshToken returns a copy of the token without using it.
func (s *Store) GetRefreshToken(_ context.Context, hash string, now time.Time) (store.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return store.RefreshToken{}, fmt.Errorf("get refresh token: %w", store.ErrNotFound)
	}
	if !now.Before(t.ExpiresAt) {
		return store.RefreshToken{}, fmt.Errorf("get refresh token: expired: %w", store.ErrNotFound)
	}
	t = copyToken(t)
	_, t.Revoked = s.revokedFamilies[t.Family]
	return t, nil
}

// RevokeRefreshFamily makes every token of family, present or future,
// unusable.
func (s *Store) RevokeRefreshFamily(_ context.Context, family string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedFamilies[family] = struct{}{}
	return nil
}

func copyToken(t store.RefreshToken) store.RefreshToken {
	t.Scopes = clone(t.Scopes)
	return t
}
