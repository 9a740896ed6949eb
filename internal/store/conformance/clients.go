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
	"reflect"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

func sampleClient(id string) store.Client {
	return store.Client{
		ID:              id,
		SecretHash:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		GrantTypes:      []string{"password", "refresh_token"},
		Scopes:          []string{"read"},
		Audiences:       []string{"api"},
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 720 * time.Hour,
		Source:          "default/" + id,
	}
}

func normClient(c store.Client) store.Client {
	c.GrantTypes = nilIfEmpty(c.GrantTypes)
	c.Scopes = nilIfEmpty(c.Scopes)
	c.Audiences = nilIfEmpty(c.Audiences)
	return c
}

func checkClient(t *testing.T, got, want store.Client) {
	t.Helper()
	if g, w := normClient(got), normClient(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("client mismatch:\n got %+v\nwant %+v", g, w)
	}
}

func testClientCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.GetClient(ctx, "web")
	wantErr(t, "GetClient before put", err, store.ErrNotFound)

	c := sampleClient("web")
	must(t, "PutClient", s.PutClient(ctx, c))
	got, err := s.GetClient(ctx, "web")
	must(t, "GetClient", err)
	checkClient(t, got, c)
	if got.Public() {
		t.Fatal("confidential client reported as public")
	}

	// Replace with a public client: the secret hash must be gone.
	c2 := store.Client{ID: "web", GrantTypes: []string{"refresh_token"}}
	must(t, "PutClient replace", s.PutClient(ctx, c2))
	got, err = s.GetClient(ctx, "web")
	must(t, "GetClient after replace", err)
	checkClient(t, got, c2)
	if !got.Public() {
		t.Fatal("public client reported as confidential")
	}

	must(t, "DeleteClient", s.DeleteClient(ctx, "web"))
	_, err = s.GetClient(ctx, "web")
	wantErr(t, "GetClient after delete", err, store.ErrNotFound)
	must(t, "DeleteClient missing", s.DeleteClient(ctx, "web"))
}

func testClientList(t *testing.T, s Store) {
	ctx := t.Context()
	list, err := s.ListClients(ctx)
	must(t, "ListClients empty", err)
	if len(list) != 0 {
		t.Fatalf("ListClients on empty store = %d records, want 0", len(list))
	}

	want := map[string]store.Client{}
	for _, id := range []string{"web", "cli", "batch"} {
		c := sampleClient(id)
		must(t, "PutClient", s.PutClient(ctx, c))
		want[id] = c
	}
	must(t, "DeleteClient", s.DeleteClient(ctx, "cli"))
	delete(want, "cli")

	list, err = s.ListClients(ctx)
	must(t, "ListClients", err)
	if len(list) != len(want) {
		t.Fatalf("ListClients = %d records, want %d: %+v", len(list), len(want), list)
	}
	for _, got := range list {
		w, ok := want[got.ID]
		if !ok {
			t.Fatalf("ListClients returned unexpected client %q", got.ID)
		}
		checkClient(t, got, w)
	}
}

func testClientCopies(t *testing.T, s Store) {
	ctx := t.Context()
	c := sampleClient("web")
	want := sampleClient("web")
	must(t, "PutClient", s.PutClient(ctx, c))
	c.GrantTypes[0], c.Scopes[0], c.Audiences[0] = "mutated", "mutated", "mutated"

	got, err := s.GetClient(ctx, "web")
	must(t, "GetClient", err)
	checkClient(t, got, want)
	got.GrantTypes[0], got.Scopes[0], got.Audiences[0] = "mutated", "mutated", "mutated"

	list, err := s.ListClients(ctx)
	must(t, "ListClients", err)
	if len(list) != 1 {
		t.Fatalf("ListClients = %d records, want 1", len(list))
	}
	checkClient(t, list[0], want)
	list[0].Scopes[0] = "mutated"

	got, err = s.GetClient(ctx, "web")
	must(t, "GetClient again", err)
	checkClient(t, got, want)
}

// testClientCredentials: the other ways a client authenticates (a key set,
// a ServiceAccount) and its not-before are kept.
func testClientCredentials(t *testing.T, s Store) {
	ctx := t.Context()
	nb := time.Now().Truncate(time.Millisecond)
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	keyed := store.Client{ID: "keyed", JWKS: jwks, GrantTypes: []string{"client_credentials"}, NotBefore: nb, Source: "ns/keyed"}
	sa := store.Client{ID: "pod", ServiceAccount: &store.ServiceAccount{Namespace: "apps", Name: "batch", UID: "0b5ae0b4-1d46-4f7e-8a36-5e1d35f1f0c1"},
		GrantTypes: []string{"client_credentials"}, Source: "ns/pod"}
	for _, c := range []store.Client{keyed, sa} {
		must(t, "PutClient", s.PutClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		if !got.NotBefore.Equal(c.NotBefore) {
			t.Fatalf("%s: not-before %v, want %v", c.ID, got.NotBefore, c.NotBefore)
		}
		got.NotBefore, c.NotBefore = time.Time{}, time.Time{}
		checkClient(t, got, c)
		if got.Public() {
			t.Fatalf("%s: a client with a %s credential reported public", c.ID, got.AuthMethod())
		}
	}
	got, err := s.GetClient(ctx, "pod")
	must(t, "GetClient", err)
	got.ServiceAccount.UID = "mutated"
	again, err := s.GetClient(ctx, "pod")
	must(t, "GetClient again", err)
	if again.ServiceAccount.UID != sa.ServiceAccount.UID {
		t.Fatal("a returned registration shares its ServiceAccount with the store")
	}
}
