package memory

import (
	"context"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// RevokeAccessToken records jti as revoked until exp.
func (s *Store) RevokeAccessToken(_ context.Context, jti string, exp time.Time) error {
	s.revoke(s.revokedJTIs, store.RevocationEvent{JTI: jti, Until: exp}, jti)
	return nil
}

// AccessTokenRevoked reports whether jti was revoked with an exp after now
// (for tests and benchmarks: conformance.Store).
func (s *Store) AccessTokenRevoked(_ context.Context, jti string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.revokedJTIs[jti]
	return ok && now.Before(exp), nil
}
