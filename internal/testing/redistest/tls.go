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

package redistest

import "testing"

// StartTLS launches a standalone redis-server that serves TLS only, with a
// fresh CA and server certificate (NewCerts), and registers its shutdown
// with t.Cleanup. sec.TLS is implied; sec.ClientCerts requires the client
// certificate of Certs, and sec.User an ACL user and password.
func StartTLS(t testing.TB, sec Security) *Node {
	t.Helper()
	sec.TLS = true
	return startNode(t, dataNode, sec, NewCerts(t))
}
