// Package signer holds the token server's signing keys: parsing them from
// PEM, naming them by their RFC 7638 thumbprint, publishing the public half
// as a JWKS and signing access tokens with the active key.
//
// A [KeySet] is an immutable snapshot: one active signing key plus every key
// whose tokens are still accepted (for rotation, the previous keys stay in
// the set, possibly as public keys only). A [Watcher] holds the current
// snapshot and, when built by [WatchDir], swaps in a new one whenever the
// key directory (typically a mounted Kubernetes Secret) changes.
//
// Supported algorithms follow RFC 8725 guidance: ES256 (P-256), ES384
// (P-384), EdDSA (Ed25519) and RS256 (RSA of at least 2048 bits). Nothing in
// this package ever logs or serialises private key material.
package signer
