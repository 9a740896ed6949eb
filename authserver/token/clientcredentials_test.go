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

package token

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
)

func TestClientScopes(t *testing.T) {
	for _, c := range []struct {
		requested, client, want []string
		err                     bool
	}{
		{nil, []string{"read", "write"}, []string{"read", "write"}, false},
		{[]string{"write"}, []string{"read", "write"}, []string{"write"}, false},
		{[]string{"admin"}, []string{"read"}, nil, true},
		// No list: no scopes, not every scope.
		{nil, nil, nil, false},
		{[]string{"read"}, nil, nil, true},
		// OpenID Connect scopes need a user, even when the client lists them.
		{[]string{"openid"}, []string{"openid", "read"}, nil, true},
		{[]string{"read", "groups"}, []string{"read", "groups"}, nil, true},
		{nil, []string{"openid", "read", "profile"}, []string{"read"}, false},
	} {
		got, err := clientScopes(c.requested, c.client)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("clientScopes(%v, %v) = %v, %v; want %v (error %v)", c.requested, c.client, got, err, c.want, c.err)
		}
		if err != nil && oauth.As(err).Code != oauth.CodeInvalidScope {
			t.Errorf("clientScopes(%v, %v): %v, want invalid_scope", c.requested, c.client, err)
		}
	}
}

// A client whose scopes would make a token larger than the validators take
// gets invalid_scope, not a token authstack itself would refuse; a public
// client gets unauthorized_client. Both before anything is minted.
func TestClientCredentialsRefusesBeforeMinting(t *testing.T) {
	var many []string
	for i := range 64 {
		many = append(many, strconv.Itoa(i)+strings.Repeat("s", 120))
	}
	g := &ClientCredentialsGrant{} // no Minter: reaching it would panic
	for name, tc := range map[string]struct {
		client store.Client
		scope  string
		code   string
	}{
		"oversized":        {store.Client{ID: "big", SecretHash: "h", Scopes: many}, "", oauth.CodeInvalidScope},
		"public":           {store.Client{ID: "pub", Scopes: []string{"read"}}, "", oauth.CodeUnauthorizedClient},
		"malformed scope":  {store.Client{ID: "c", SecretHash: "h"}, "a\"b", oauth.CodeInvalidScope},
		"scope not listed": {store.Client{ID: "c", SecretHash: "h"}, "read", oauth.CodeInvalidScope},
	} {
		_, err := g.Handle(t.Context(), &Request{GrantType: GrantClientCredentials, Form: oauth.Form{"scope": tc.scope}, Client: tc.client})
		if oauth.As(err).Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}
