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

// Package accesstoken issues and validates OAuth 2.0 access tokens in the
// JWT profile of RFC 9068, following the JWT best current practices of
// RFC 8725: the "typ" header is "at+jwt", the algorithm is pinned to the
// verifying key's, and the issuer, audience, lifetime and required claims
// are always checked.
//
// Signing keys come from a [signer.Source]; each call uses one snapshot of
// the key set, so key rotation never races a request.
package accesstoken
