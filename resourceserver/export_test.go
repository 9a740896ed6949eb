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

import "sync/atomic"

// CountVerifications makes a count the signature verifications it makes
// (each accesstoken.Validator.Verify call), so that a test can tell a
// cache hit from a verification without timing.
func CountVerifications(a *Authenticator, n *atomic.Int64) { a.onVerify = func() { n.Add(1) } }

// MiddlewareAuthenticator is the Authenticator of m.
func MiddlewareAuthenticator(m *Middleware) *Authenticator { return &m.auth }
