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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Logout ends the cached session: it revokes the refresh token at the
// revocation endpoint (RFC 7009), and with it the session's access
// tokens, then the access token, and removes the cache file. found is
// false when nothing was cached. On an error the cache file stays, so
// that the logout can be retried.
func (c *Client) Logout(ctx context.Context) (found bool, err error) {
	unlock, err := c.Cache.Lock(c.Key)
	if err != nil {
		return false, err
	}
	defer unlock()
	cached, err := c.Cache.Load(c.Key)
	if err != nil {
		return false, err
	}
	if cached == nil {
		// A damaged file holds nothing to revoke.
		return c.Cache.Remove(c.Key)
	}
	ep, err := Discover(ctx, c.HTTP, c.Issuer)
	if err != nil {
		return true, err
	}
	if ep.RevocationEndpoint == "" {
		return true, errors.New("the server's discovery document names no revocation_endpoint")
	}
	for _, t := range []struct{ token, hint string }{
		{cached.RefreshToken, "refresh_token"},
		{cached.AccessToken, "access_token"},
	} {
		if t.token == "" {
			continue
		}
		if err := c.revoke(ctx, ep.RevocationEndpoint, t.token, t.hint); err != nil {
			return true, err
		}
	}
	_, err = c.Cache.Remove(c.Key)
	return true, err
}

// revoke posts one RFC 7009 revocation request.
func (c *Client) revoke(ctx context.Context, endpoint, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if c.ClientSecret == "" {
		form.Set("client_id", c.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("the revocation endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return explainTransport(c.Issuer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return explainRevocation(resp, c.ClientID)
}

// explainRevocation turns a refused revocation into a sentence.
func explainRevocation(resp *http.Response, clientID string) error {
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("the server is busy or unavailable; the tokens are not revoked; try again %s", retryIn(resp))
	case body.Error == codeInvalidClient:
		return refusedClient(clientID)
	case body.Error != "":
		return fmt.Errorf("the server refused the revocation: %s: %s", body.Error, body.Description)
	}
	return fmt.Errorf("the revocation endpoint answered HTTP %d", resp.StatusCode)
}
