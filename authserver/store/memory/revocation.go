package memory

import (
	"context"
	"time"

	"github.com/authstack/authstack/authserver/store"
)

// RevokeAccessToken records jti as revoked until exp.
func (s *Store) RevokeAccessToken(_ context.Context, jti string, exp time.Time) error {
	exp = exp.Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.revokedJTIs[jti]; ok && !cur.Before(exp) {
		return nil
	}
	s.revokedJTIs[jti] = exp
	s.appendChange(store.RevocationEvent{JTI: jti, Until: exp})
	return nil
}

// AccessTokenRevoked reports whether jti was revoked with an exp after now.
func (s *Store) AccessTokenRevoked(_ context.Context, jti string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.revokedJTIs[jti]
	return ok && now.Before(exp), nil
}
