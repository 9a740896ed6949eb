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
