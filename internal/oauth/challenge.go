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
	"net/http"
	"strings"
)

// Realm is the realm named in every WWW-Authenticate challenge.
const Realm = "authstack"

// BearerChallenge builds an RFC 6750 §3 error for a protected resource. An
// empty code is the answer to a request without credentials: 401 with a bare
// challenge and no error code (RFC 6750 §3.1).
func BearerChallenge(code, desc string, scopes ...string) *Error {
	status := http.StatusUnauthorized
	switch code {
	case CodeInvalidRequest:
		status = http.StatusBadRequest
	case CodeInsufficientScope:
		status = http.StatusForbidden
	}
	var b strings.Builder
	b.WriteString(`Bearer realm="` + Realm + `"`)
	if code != "" {
		b.WriteString(`, error="` + code + `"`)
		if desc != "" {
			b.WriteString(`, error_description="` + quoteSafe(desc) + `"`)
		}
	}
	if len(scopes) > 0 {
		b.WriteString(`, scope="` + quoteSafe(strings.Join(scopes, " ")) + `"`)
	}
	// With no code (no credentials sent) the error has no body either.
	return &Error{Code: code, Description: desc, Status: status, WWWAuthenticate: b.String()}
}

// quoteSafe keeps only the characters RFC 6750 allows inside the
// error_description and scope attributes (%x20-21 / %x23-5B / %x5D-7E).
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x20 || r == 0x21 || (r >= 0x23 && r <= 0x5B) || (r >= 0x5D && r <= 0x7E) {
			return r
		}
		return -1
	}, s)
}
