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

package conformance

import (
	"errors"
	"testing"

	"github.com/authstack/authstack/internal/store"
)

func testEpoch(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.GetEpoch(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEpoch of an empty store: %v, want ErrNotFound", err)
	}
	got, err := s.InitEpoch(ctx, "first")
	if err != nil || got != "first" {
		t.Fatalf("InitEpoch on an empty store = %q, %v", got, err)
	}
	// A second writer (another manager, a race) gets the marker in place.
	if got, err := s.InitEpoch(ctx, "second"); err != nil || got != "first" {
		t.Fatalf("InitEpoch over a marker = %q, %v; want the existing one", got, err)
	}
	if got, err := s.GetEpoch(ctx); err != nil || got != "first" {
		t.Fatalf("GetEpoch = %q, %v", got, err)
	}
	if _, err := s.InitEpoch(ctx, ""); err == nil {
		t.Fatal("InitEpoch with an empty value succeeded")
	}
	// ReplaceEpoch is a compare-and-set.
	if got, err := s.ReplaceEpoch(ctx, "not-it", "third"); err != nil || got != "first" {
		t.Fatalf("ReplaceEpoch with a wrong old value = %q, %v; want the marker unchanged", got, err)
	}
	if got, err := s.ReplaceEpoch(ctx, "first", "third"); err != nil || got != "third" {
		t.Fatalf("ReplaceEpoch = %q, %v", got, err)
	}
	if got, err := s.GetEpoch(ctx); err != nil || got != "third" {
		t.Fatalf("GetEpoch after ReplaceEpoch = %q, %v", got, err)
	}
	if _, err := s.ReplaceEpoch(ctx, "third", ""); err == nil {
		t.Fatal("ReplaceEpoch with an empty value succeeded")
	}
}
