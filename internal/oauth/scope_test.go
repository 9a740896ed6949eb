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

package oauth

import (
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	for in, want := range map[string][]string{
		"":               nil,
		"read":           {"read"},
		"read write":     {"read", "write"},
		"read read":      {"read"},
		"urn:x:y a/b!#~": {"urn:x:y", "a/b!#~"},
	} {
		got, err := ParseScope(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseScope(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{" ", "read ", " read", "read  write", "a\"b", `a\b`, "a\tb", "é"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
}

// FuzzParseScope: accepted scopes are exactly space-joined valid tokens.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"read write", "a  b", "\x7f", "x\"y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScope(s)
		if err != nil {
			return
		}
		for _, tok := range got {
			if !ValidScopeToken(tok) || strings.Contains(tok, " ") {
				t.Fatalf("accepted token %q", tok)
			}
		}
	})
}
