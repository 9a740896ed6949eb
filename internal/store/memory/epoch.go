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

// GetEpoch returns the epoch marker, or store.ErrNotFound.
func (s *Store) GetEpoch(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == "" {
		return "", fmt.Errorf("get epoch: %w", store.ErrNotFound)
	}
	return s.epoch, nil
}

// InitEpoch sets the marker unless one is set, and returns the marker.
func (s *Store) InitEpoch(_ context.Context, value string) (string, error) {
	if value == "" {
		return "", fmt.Errorf("init epoch: empty value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == "" {
		s.epoch = value
	}
	return s.epoch, nil
}

// ReplaceEpoch sets the marker to next if it is old.
func (s *Store) ReplaceEpoch(_ context.Context, old, next string) (string, error) {
	if next == "" {
		return "", fmt.Errorf("replace epoch: empty value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch == old {
		s.epoch = next
	}
	return s.epoch, nil
}
