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
)

// UseAssertion records id as used until until; false if it already was
// and has not expired. Expired IDs are swept once the table has doubled
// since the last sweep, as the throttle's counters are.
func (s *Store) UseAssertion(_ context.Context, id string, until, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.assertions[id]; ok && now.Before(exp) {
		return false, nil
	}
	if len(s.assertions) >= max(s.assertionSweepAt, minSweep) {
		for k, exp := range s.assertions {
			if !now.Before(exp) {
				delete(s.assertions, k)
			}
		}
		s.assertionSweepAt = 2 * len(s.assertions)
	}
	s.assertions[id] = until
	return true, nil
}
