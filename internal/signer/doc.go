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

// Package signer holds the token server's signing keys: parsing them from
// PEM, naming them by their RFC 7638 thumbprint, publishing the public half
// as a JWKS and signing access tokens with the active key.
//
// A [KeySet] is an immutable snapshot: one active signing key plus every key
// whose tokens are still accepted (for rotation, the previous keys stay in
// the set, possibly as public keys only). A [Watcher] holds the current
// snapshot and, when built by [WatchDir], swaps in a new one whenever the
// key directory (typically a mounted Kubernetes Secret) changes. A
// directory without any key file yet (a Secret not written yet) is waited
// for: the Watcher then has no snapshot and says why.
//
// Supported algorithms follow RFC 8725 guidance: ES256 (P-256), ES384
// (P-384), EdDSA (Ed25519) and RS256 (RSA of at least 2048 bits). Nothing in
// this package ever logs or serialises private key material.
package signer
