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
