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

// BeginLogin does what CountAttempts, Reserve, GetUser and GetEpoch do.
func (s *Store) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	return store.BeginLoginOf(ctx, s, l, now)
}

// FinishLogin does what Settle, AddAttempt, AddUserSession,
// CreateSession and RecordLogin do.
func (s *Store) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	return store.FinishLoginOf(ctx, s, l, now)
}

// BeginRefresh does what GetClient, GetSession and GetEpoch do.
func (s *Store) BeginRefresh(ctx context.Context, id, clientID string) (store.RefreshState, error) {
	return store.BeginRefreshOf(ctx, s, id, clientID)
}

// FinishRefresh does what GetUser and RotateSession do.
func (s *Store) FinishRefresh(ctx context.Context, username, id string, r store.Rotation, now time.Time) (store.Refreshed, error) {
	return store.FinishRefreshOf(ctx, s, username, id, r, now)
}
