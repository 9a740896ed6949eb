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

package v1alpha1

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest username or client ID.
const MaxNameLength = 253

// ValidName reports whether s can be a username or a client ID: 1 to 253
// characters of [a-zA-Z0-9._@-], the rule the CRD schema enforces. The
// token server refuses other names before touching the store.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

// CanonicalName is the one form of a username or client ID that the store
// keys records by and tokens carry: names are unique case-insensitively, so
// "Alice@Corp.Example" and "alice@corp.example" are one name, held by one
// object. Names are ASCII (ValidName), so lowercasing is exact.
func CanonicalName(s string) string { return strings.ToLower(s) }

// ReservedGroupPrefix starts the groups Kubernetes gives meaning to
// (system:masters is cluster-admin, system:authenticated everyone, ...):
// no AuthUser may carry one, so that an API server trusting authstack
// tokens without a groups prefix cannot be talked into them.
const ReservedGroupPrefix = "system:"

// ErrInvalidGroup is wrapped by ValidateGroup's errors.
var ErrInvalidGroup = errors.New("invalid group")

// ValidateGroup checks that g can be a group in a token: not empty, at most
// MaxNameLength bytes of UTF-8, not starting with "system:" (in any case),
// and without a comma, white space or a control or format character, so
// that a header or a list joined with commas (X-Auth-Request-Groups) means
// the groups it was made of and nothing else. The CRD enforces the same
// rules; the manager checks again, for objects stored before them.
func ValidateGroup(g string) error {
	switch {
	case g == "":
		return fmt.Errorf("%w: empty", ErrInvalidGroup)
	case len(g) > MaxNameLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidGroup, MaxNameLength)
	case !utf8.ValidString(g):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidGroup)
	case strings.HasPrefix(strings.ToLower(g), ReservedGroupPrefix):
		return fmt.Errorf("%w: %q starts with %q, which Kubernetes reserves", ErrInvalidGroup, g, ReservedGroupPrefix)
	}
	for _, r := range g {
		if r == ',' || unicode.IsSpace(r) || unicode.Is(unicode.C, r) || unicode.Is(unicode.Z, r) {
			return fmt.Errorf("%w: %q holds a comma, white space or a control character", ErrInvalidGroup, g)
		}
	}
	return nil
}
