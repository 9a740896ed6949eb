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

package accesstoken

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/authstack/authstack/internal/oauth"
)

// Every access token must fit the validators' limit (DefaultMaxTokenBytes),
// or authstack itself would refuse tokens it issued. What varies in a
// token is the issuer, the user (username, groups, scopes) and the client
// (client ID, audiences); each gets a budget, which the token server checks
// for its issuer and default audience at start-up and the manager for each
// AuthUser and AuthClient it writes. With every budget used, an RS256 token
// signed with the largest key accepted still fits (TestBudgetsFit).
const (
	// MaxIssuerBytes bounds the issuer.
	MaxIssuerBytes = 512
	// MaxUserClaimBytes bounds UserClaimBytes.
	MaxUserClaimBytes = 2560
	// MaxClientClaimBytes bounds ClientClaimBytes.
	MaxClientClaimBytes = 1536
)

// UserClaimBytes is what a user's username, groups and scopes take in an
// access token's claims at most: the JSON of "sub", "preferred_username"
// and "groups", and the "scope" string (a token's scopes are some of the
// user's, and the OpenID Connect scopes every user may ask for).
func UserClaimBytes(username string, groups, scopes []string) int {
	return 2*jsonLen(username) + jsonLen(groups) + jsonLen(strings.Join(append(slices.Clone(scopes), oauth.OpenIDScopes...), " "))
}

// ClientClaimBytes is what a client's ID and audiences take in an access
// token's claims: the JSON of "client_id" and "aud".
func ClientClaimBytes(clientID string, audiences []string) int {
	return jsonLen(clientID) + jsonLen(audiences)
}

func jsonLen(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 1 << 30 // cannot happen for strings; fail closed
	}
	return len(b)
}
