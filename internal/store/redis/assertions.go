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
	"time"
)

// UseAssertion sets the assertion's key if it is absent (SET NX), expiring
// when the assertion does: one round trip, atomic across replicas.
func (s *Store) UseAssertion(ctx context.Context, id string, until, now time.Time) (bool, error) {
	ttl := max(until.Sub(now).Round(time.Millisecond)+time.Millisecond, time.Millisecond)
	ok, err := s.client.SetNX(ctx, s.keys.assertion(id), 1, ttl).Result()
	if err != nil {
		return false, unavailable("use assertion", err)
	}
	return ok, nil
}
