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
	"reflect"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

func sampleUser(name string) store.User {
	return store.User{
		Username:      name,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		Scopes:        []string{"read", "write"},
		Groups:        []string{"admins"},
		Disabled:      true,
		NotBefore:     time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 2*3600)),
		Source:        "default/" + name,
		SecretVersion: "42",
	}
}

func normUser(u store.User) store.User {
	u.Scopes = nilIfEmpty(u.Scopes)
	u.Groups = nilIfEmpty(u.Groups)
	u.NotBefore = utc(u.NotBefore)
	return u
}

func checkUser(t *testing.T, got, want store.User) {
	t.Helper()
	if g, w := normUser(got), normUser(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("user mismatch:\n got %+v\nwant %+v", g, w)
	}
}

func testUserCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser before put", err, store.ErrNotFound)

	u := sampleUser("alice")
	must(t, "PutUser", s.PutUser(ctx, u))
	got, err := s.GetUser(ctx, "alice")
	must(t, "GetUser", err)
	checkUser(t, got, u)

	// Replace drops fields the new record does not have.
	u2 := store.User{Username: "alice", PasswordHash: "$2a$10$other", Scopes: []string{"read"}}
	must(t, "PutUser replace", s.PutUser(ctx, u2))
	got, err = s.GetUser(ctx, "alice")
	must(t, "GetUser after replace", err)
	checkUser(t, got, u2)

	must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
	_, err = s.GetUser(ctx, "alice")
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
	must(t, "DeleteUser missing", s.DeleteUser(ctx, "alice"))
}

func testUserList(t *testing.T, s Store) {
	ctx := t.Context()
	list, err := s.ListUsers(ctx)
	must(t, "ListUsers empty", err)
	if len(list) != 0 {
		t.Fatalf("ListUsers on empty store = %d records, want 0", len(list))
	}

	want := map[string]store.User{}
	for _, name := range []string{"alice", "bob", "carol"} {
		u := sampleUser(name)
		must(t, "PutUser", s.PutUser(ctx, u))
		want[name] = u
	}
	must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
	delete(want, "bob")
	replaced := store.User{Username: "carol", PasswordHash: "new"}
	must(t, "PutUser replace", s.PutUser(ctx, replaced))
	want["carol"] = replaced

	list, err = s.ListUsers(ctx)
	must(t, "ListUsers", err)
	if len(list) != len(want) {
		t.Fatalf("ListUsers = %d records, want %d: %+v", len(list), len(want), list)
	}
	for _, got := range list {
		w, ok := want[got.Username]
		if !ok {
			t.Fatalf("ListUsers returned unexpected user %q", got.Username)
		}
		checkUser(t, got, w)
	}
}

func testUserCopies(t *testing.T, s Store) {
	ctx := t.Context()
	u := sampleUser("alice")
	want := sampleUser("alice")
	must(t, "PutUser", s.PutUser(ctx, u))
	u.Scopes[0], u.Groups[0] = "mutated", "mutated"

	got, err := s.GetUser(ctx, "alice")
	must(t, "GetUser", err)
	checkUser(t, got, want)
	got.Scopes[0], got.Groups[0] = "mutated", "mutated"

	list, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	if len(list) != 1 {
		t.Fatalf("ListUsers = %d records, want 1", len(list))
	}
	checkUser(t, list[0], want)
	list[0].Scopes[0] = "mutated"

	got, err = s.GetUser(ctx, "alice")
	must(t, "GetUser again", err)
	checkUser(t, got, want)
}

// testUserOddNames checks that names which look like key syntax (braces,
// escapes, separators) neither fail nor collide.
func testUserOddNames(t *testing.T, s Store) {
	ctx := t.Context()
	names := []string{"a{b}", "a%7Bb%7D", "a}b{", "{users}", "x:y", "user@example.com", "café", ""}
	for i, name := range names {
		u := store.User{Username: name, PasswordHash: string(rune('A' + i))}
		must(t, "PutUser "+name, s.PutUser(ctx, u))
	}
	for i, name := range names {
		got, err := s.GetUser(ctx, name)
		must(t, "GetUser "+name, err)
		checkUser(t, got, store.User{Username: name, PasswordHash: string(rune('A' + i))})
	}
	list, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	if len(list) != len(names) {
		t.Fatalf("ListUsers = %d records, want %d", len(list), len(names))
	}
}

func testDeleteFromSource(t *testing.T, s Store) {
	ctx := t.Context()
	if err := s.PutUser(ctx, store.User{Username: "alice", PasswordHash: "h", Source: "ns/alice"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteUserFrom(ctx, "alice", "ns/impostor"); err != nil || ok {
		t.Fatalf("DeleteUserFrom another source = %v, %v", ok, err)
	}
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("record deleted by another source: %v", err)
	}
	if ok, err := s.DeleteUserFrom(ctx, "alice", "ns/alice"); err != nil || !ok {
		t.Fatalf("DeleteUserFrom its source = %v, %v", ok, err)
	}
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record after DeleteUserFrom: %v", err)
	}
	if users, _ := s.ListUsers(ctx); len(users) != 0 {
		t.Fatalf("listed after DeleteUserFrom: %v", users)
	}
	if err := s.PutUser(ctx, store.User{Username: "tool", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteUserFrom(ctx, "tool", ""); err != nil || ok {
		t.Fatalf("DeleteUserFrom of a record without a source = %v, %v", ok, err)
	}
	if err := s.DeleteUser(ctx, "tool"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteUserFrom(ctx, "nobody", "ns/nobody"); err != nil || ok {
		t.Fatalf("DeleteUserFrom of a missing record = %v, %v", ok, err)
	}

	if err := s.PutClient(ctx, store.Client{ID: "billing", Source: "ns/billing"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteClientFrom(ctx, "billing", "other/billing"); err != nil || ok {
		t.Fatalf("DeleteClientFrom another source = %v, %v", ok, err)
	}
	if ok, err := s.DeleteClientFrom(ctx, "billing", "ns/billing"); err != nil || !ok {
		t.Fatalf("DeleteClientFrom its source = %v, %v", ok, err)
	}
	if _, err := s.GetClient(ctx, "billing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client after DeleteClientFrom: %v", err)
	}
}
