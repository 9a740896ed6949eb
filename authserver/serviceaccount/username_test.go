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

package serviceaccount_test

import (
	"strings"
	"testing"

	"github.com/authstack/authstack/authserver/serviceaccount"
)

func TestSplitUsername(t *testing.T) {
	for _, tc := range []struct {
		in       string
		ns, name string
	}{
		{"system:serviceaccount:team-a:billing", "team-a", "billing"},
		{"system:serviceaccount:kube-system:a.b-c", "kube-system", "a.b-c"},
	} {
		ns, name, ok := serviceaccount.SplitUsername(tc.in)
		if !ok || ns != tc.ns || name != tc.name {
			t.Errorf("SplitUsername(%q) = %q, %q, %v; want %q, %q", tc.in, ns, name, ok, tc.ns, tc.name)
		}
	}
	for _, in := range []string{
		"", "alice", "system:serviceaccount:", "system:serviceaccount:team-a", "system:serviceaccount:team-a:",
		"system:serviceaccount::billing", "system:serviceaccount:team-a:billing:extra", "system:serviceaccounts:team-a",
		"System:serviceaccount:team-a:billing", "system:serviceaccount:Team-A:billing", "system:serviceaccount:team.a:billing",
		"system:serviceaccount:team-a:Billing", "system:node:n1", "x system:serviceaccount:team-a:billing",
		"system:serviceaccount:" + strings.Repeat("a", 64) + ":billing",
	} {
		if ns, name, ok := serviceaccount.SplitUsername(in); ok {
			t.Errorf("SplitUsername(%q) = %q, %q, true; want not a ServiceAccount", in, ns, name)
		}
	}
}
