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

// Package resourceserver protects the HTTP APIs of services with
// authstack access tokens: RFC 6750 bearer tokens in the JWT profile of
// RFC 9068, validated locally against the authorization server's public
// keys.
//
// [New] returns a [Middleware]; [Middleware.Handler] wraps a handler so
// that only requests with a valid token reach it, and
// [Middleware.RequireScopes] adds per-route scope requirements. The
// handler reads the token's claims with [ClaimsFromContext]. Errors are
// answered as RFC 6750 §3 challenges: 401 without a token or with an
// invalid one, 400 for a malformed Authorization header, 403
// insufficient_scope, and 503 (never a pass) when the keys are not loaded
// yet or the optional [RevocationChecker] cannot tell. Tokens are only
// read from the Authorization header, never from the query string or a
// form body.
//
// The keys come from a [KeySource]; by default a [RemoteKeys], which
// discovers the jwks_uri from the issuer's RFC 8414 metadata, fetches the
// JWK Set in the background, honours its Cache-Control max-age within
// bounds, keeps the last good set when a refresh fails, and fetches again
// (rate limited) when a token names a key it does not know, as happens
// right after a key rotation.
//
// docs/resource-servers.md describes the checks and the policies.
package resourceserver
