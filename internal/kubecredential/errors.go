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

package kubecredential

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// ErrWrongPassword is a password grant refused for its credentials: the
// server does not say whether the username or the password was wrong.
var ErrWrongPassword = errors.New("the username or password is wrong")

// RFC 6749 §5.2 error codes the messages tell apart.
const (
	codeInvalidGrant       = "invalid_grant"
	codeInvalidClient      = "invalid_client"
	codeUnauthorizedClient = "unauthorized_client"
	codeInvalidScope       = "invalid_scope"
	codeUnavailable        = "temporarily_unavailable"
)

// isInvalidGrant reports whether the server refused the grant itself (a
// wrong password, a refresh token revoked or expired), as opposed to the
// request failing.
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == codeInvalidGrant
}

// explainToken turns a failed token request into a sentence for the user
// at the terminal.
func explainToken(err error, clientID string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("cannot reach the token endpoint: %w", err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case status == http.StatusTooManyRequests:
		return fmt.Errorf("too many failed logins; try again %s", retryIn(re.Response))
	case status == http.StatusServiceUnavailable || re.ErrorCode == codeUnavailable:
		return fmt.Errorf("the server is busy or unavailable; try again %s", retryIn(re.Response))
	case re.ErrorCode == codeInvalidGrant:
		return ErrWrongPassword
	case re.ErrorCode == codeInvalidClient:
		return refusedClient(clientID)
	case re.ErrorCode == codeUnauthorizedClient:
		return fmt.Errorf("the client %q may not use this grant: its AuthClient must list the password and refresh_token grant types", clientID)
	case re.ErrorCode == codeInvalidScope:
		return fmt.Errorf("the scopes asked for are not granted: %s", re.ErrorDescription)
	case re.ErrorCode != "":
		return fmt.Errorf("the server refused the login: %s: %s", re.ErrorCode, re.ErrorDescription)
	case status >= http.StatusInternalServerError:
		return fmt.Errorf("the server failed (HTTP %d); try again, or tell its operator", status)
	}
	return fmt.Errorf("the token endpoint answered HTTP %d, not an OAuth 2.0 response; is --server right?", status)
}

// retryIn reads a response's Retry-After (RFC 9110 §10.2.3) as "in N s",
// or "later" when it has none in seconds.
func retryIn(resp *http.Response) string {
	if resp == nil {
		return "later"
	}
	s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || s < 0 {
		return "later"
	}
	return fmt.Sprintf("in %d s", s)
}

// refusedClient is invalid_client in words.
func refusedClient(clientID string) error {
	return fmt.Errorf("the server refused the client %q: it does not know it, or it needs a secret (--client-secret-file)", clientID)
}
