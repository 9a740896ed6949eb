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
	"strings"
)

// Endpoints are the members of the issuer's discovery document a login
// uses.
type Endpoints struct {
	Issuer             string `json:"issuer"`
	TokenEndpoint      string `json:"token_endpoint"`
	RevocationEndpoint string `json:"revocation_endpoint"`
}

// maxDiscoveryBytes bounds the discovery document read.
const maxDiscoveryBytes = 1 << 20

// DiscoveryURL is where issuer's OpenID Connect discovery document is
// (OIDC Discovery §4): the issuer, path included, followed by
// /.well-known/openid-configuration.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches issuer's discovery document and returns its endpoints.
// The document's issuer must be issuer exactly (OIDC Discovery §4.3), and
// it must name a token endpoint.
func Discover(ctx context.Context, hc *http.Client, issuer string) (Endpoints, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, DiscoveryURL(issuer), nil)
	if err != nil {
		return Endpoints{}, fmt.Errorf("the issuer URL %q: %w", issuer, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Endpoints{}, explainTransport(issuer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Endpoints{}, fmt.Errorf("the discovery document %s: HTTP %s; is --server the issuer URL?", req.URL, resp.Status)
	}
	var e Endpoints
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDiscoveryBytes)).Decode(&e); err != nil {
		return Endpoints{}, fmt.Errorf("the discovery document %s is not JSON: %w", req.URL, err)
	}
	if e.Issuer != issuer {
		return Endpoints{}, fmt.Errorf("the discovery document %s names the issuer %q, not %q: give --server exactly as the server's issuer", req.URL, e.Issuer, issuer)
	}
	if e.TokenEndpoint == "" {
		return Endpoints{}, errors.New("the discovery document names no token_endpoint")
	}
	return e, nil
}
