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

package resourceserver

import (
	"context"

	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// claimsKey is the context key of the authenticated request's claims.
type claimsKey struct{}

// authenticated is the context value: the claims and the middleware that
// validated them, so that a second middleware (another audience or
// issuer) does not take claims it did not check for its own.
type authenticated struct {
	m      *Middleware
	claims *accesstoken.Claims
}

// ClaimsFromContext returns the claims of the access token that
// authenticated the request, as put in its context by
// [Middleware.Handler] or [Middleware.RequireScopes]. Treat them as
// read-only.
func ClaimsFromContext(ctx context.Context) (*accesstoken.Claims, bool) {
	a, ok := ctx.Value(claimsKey{}).(*authenticated)
	if !ok || a.claims == nil {
		return nil, false
	}
	return a.claims, true
}

// fromContext returns the claims m itself put in ctx.
func (m *Middleware) fromContext(ctx context.Context) (*accesstoken.Claims, bool) {
	a, ok := ctx.Value(claimsKey{}).(*authenticated)
	if !ok || a.m != m || a.claims == nil {
		return nil, false
	}
	return a.claims, true
}
