// Package accesstoken issues and validates OAuth 2.0 access tokens in the
// JWT profile of RFC 9068, following the JWT best current practices of
// RFC 8725: the "typ" header is "at+jwt", the algorithm is pinned to the
// verifying key's, and the issuer, audience, lifetime and required claims
// are always checked.
//
// Signing keys come from a [signer.Source]; each call uses one snapshot of
// the key set, so key rotation never races a request.
package accesstoken
