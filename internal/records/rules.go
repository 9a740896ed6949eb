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

package records

import (
	"fmt"
	"slices"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// RuleError (nil when none) is a rule an AuthUser or AuthClient breaks wherever it is
// loaded, by the manager or by authstack dev: Reason is the Ready reason the
// manager reports.
type RuleError struct {
	Reason  string
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// CheckUser applies the rules of an AuthUser beyond its schema: its groups
// (never "system:", nor anything a comma-joined list would split), and no
// token that authstack's own validators would refuse.
func CheckUser(u *v1alpha1.AuthUser) *RuleError {
	for _, g := range u.Spec.Groups {
		if err := v1alpha1.ValidateGroup(g); err != nil {
			return &RuleError{Reason: v1alpha1.ReasonInvalidGroup, Message: err.Error()}
		}
	}
	if n := accesstoken.UserClaimBytes(u.EffectiveUsername(), u.Spec.Groups, u.Spec.Scopes); n > accesstoken.MaxUserClaimBytes {
		return tooLarge("the username, groups and scopes", n, accesstoken.MaxUserClaimBytes)
	}
	return nil
}

// CheckClient applies the rules of an AuthClient beyond its schema: no
// token that authstack's own validators would refuse. A token of the
// client_credentials grant has the client where a user's token has the
// user: its subject (store.ClientSubject) and the client's scopes take
// the user's budget.
func CheckClient(c *v1alpha1.AuthClient) *RuleError {
	id := c.EffectiveClientID()
	if n := accesstoken.ClientClaimBytes(id, c.Spec.Audiences); n > accesstoken.MaxClientClaimBytes {
		return tooLarge("the client ID and audiences", n, accesstoken.MaxClientClaimBytes)
	}
	if !slices.Contains(c.EffectiveGrantTypes(), v1alpha1.GrantTypeClientCredentials) {
		return nil
	}
	if n := accesstoken.UserClaimBytes(store.ClientSubject(id), nil, c.Spec.Scopes); n > accesstoken.MaxUserClaimBytes {
		return tooLarge("the client's subject and scopes (client_credentials)", n, accesstoken.MaxUserClaimBytes)
	}
	return nil
}

func tooLarge(what string, n, max int) *RuleError {
	return &RuleError{Reason: v1alpha1.ReasonTokenTooLarge, Message: fmt.Sprintf(
		"%s take %d bytes in an access token; at most %d fit (tokens are limited to %d bytes)",
		what, n, max, accesstoken.DefaultMaxTokenBytes)}
}
