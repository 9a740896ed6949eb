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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
)

// The rules beyond the schema, shared by the manager and authstack dev,
// give the manager's Ready reasons.
func TestRules(t *testing.T) {
	user := func(groups ...string) *v1alpha1.AuthUser {
		return &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: v1alpha1.AuthUserSpec{Groups: groups}}
	}
	big := make([]string, 40)
	for i := range big {
		big[i] = strings.Repeat("g", 250)
	}
	manyScopes := make([]string, 30)
	for i := range manyScopes {
		manyScopes[i] = fmt.Sprintf("%03d-%s", i, strings.Repeat("s", 100))
	}
	for name, tc := range map[string]struct {
		rule *RuleError
		want string
	}{
		"good user":        {CheckUser(user("readers")), ""},
		"system group":     {CheckUser(user("system:masters")), v1alpha1.ReasonInvalidGroup},
		"oversized user":   {CheckUser(user(big...)), v1alpha1.ReasonTokenTooLarge},
		"good client":      {CheckClient(&v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "cli"}}), ""},
		"oversized client": {CheckClient(&v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "cli"}, Spec: v1alpha1.AuthClientSpec{Audiences: big}}), v1alpha1.ReasonTokenTooLarge},
		// Scopes only a client_credentials token carries as the client's.
		"many scopes, no client_credentials": {CheckClient(&v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "cli"},
			Spec: v1alpha1.AuthClientSpec{Scopes: manyScopes}}), ""},
		"many scopes, client_credentials": {CheckClient(&v1alpha1.AuthClient{ObjectMeta: metav1.ObjectMeta{Name: "cli"},
			Spec: v1alpha1.AuthClientSpec{Scopes: manyScopes, GrantTypes: []string{v1alpha1.GrantTypeClientCredentials}}}), v1alpha1.ReasonTokenTooLarge},
	} {
		switch {
		case tc.want == "" && tc.rule != nil:
			t.Errorf("%s: refused: %v", name, tc.rule)
		case tc.want != "" && (tc.rule == nil || tc.rule.Reason != tc.want):
			t.Errorf("%s: %v, want reason %s", name, tc.rule, tc.want)
		}
	}
}
