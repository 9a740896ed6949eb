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

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/testing/authtest"
)

// Security says how the nodes of a deployment (StartTLS, StartSentinel,
// StartCluster) protect themselves.
type Security struct {
	// TLS serves TLS only (port 0, tls-port), with certificates from
	// NewCerts; replication, the cluster bus and Sentinel's own
	// connections use TLS too.
	TLS bool
	// ClientCerts requires a client certificate signed by the CA (mTLS).
	// It needs TLS.
	ClientCerts bool
	// User and Password, when User is set, add an ACL user with every
	// permission and turn the default user off, so that every client
	// authenticates with both.
	User, Password string
}

func (s Security) validate() error {
	if s.ClientCerts && !s.TLS {
		return errors.New("ClientCerts needs TLS")
	}
	if (s.User == "") != (s.Password == "") {
		return errors.New("set both User and Password, or neither")
	}
	return nil
}

// aclUser is the config line defining an ACL user with every permission.
func aclUser(name, password string) []string {
	return []string{"user", name, "on", ">" + password, "~*", "&*", "+@all"}
}

// nodeKind selects the mode a Node runs redis-server in.
type nodeKind int

const (
	dataNode nodeKind = iota
	sentinelNode
	clusterNode
)

// Node is one redis-server process of a deployment: a standalone server, a
// primary or replica, a sentinel or a cluster node. Its configuration is a
// file in its own temporary directory.
type Node struct {
	t     testing.TB
	kind  nodeKind
	bin   string
	dir   string
	sec   Security
	certs *Certs     // nil without TLS
	extra [][]string // further config lines, one directive each

	port    int // the client port (the TLS port with TLS)
	busPort int // cluster bus port, for cluster nodes

	mu   sync.Mutex
	proc *process // nil while stopped
}

// startNode launches a node on free ports and registers its shutdown with
// t.Cleanup. It retries on other ports when one was taken meanwhile.
func startNode(t testing.TB, kind nodeKind, sec Security, certs *Certs, extra ...[]string) *Node {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found on PATH (%v); install it, e.g. apt-get install redis-server", err)
	}
	if err := sec.validate(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	n := &Node{t: t, kind: kind, bin: bin, dir: t.TempDir(), sec: sec, certs: certs, extra: extra}
	t.Cleanup(n.Stop)
	var errs []error
	for range startAttempts {
		if n.port, err = authtest.FreePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if kind == clusterNode {
			if n.busPort, err = authtest.FreePort(); err != nil {
				t.Fatalf("redistest: %v", err)
			}
		}
		if err := n.launch(); err != nil {
			errs = append(errs, err)
			continue
		}
		return n
	}
	t.Fatalf("redistest: start %s: %v", n.describe(), errors.Join(errs...))
	return nil
}

func (n *Node) describe() string {
	switch n.kind {
	case sentinelNode:
		return "sentinel"
	case clusterNode:
		return "cluster node"
	}
	return "redis-server"
}

// Addr returns host:port of the node (its TLS port with TLS).
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

// URL returns a redis:// (rediss:// with TLS) URL for database 0 of the
// node, with the ACL user and password if there is one.
func (n *Node) URL() string {
	return nodeURL(n.sec, n.Addr(), "/0")
}

// Certs returns the certificates of the node, nil without TLS.
func (n *Node) Certs() *Certs { return n.certs }

// Client returns a go-redis client for the node, authenticated and with
// TLS (and the client certificate) as the node needs; closed at cleanup.
func (n *Node) Client() *goredis.Client {
	c := goredis.NewClient(n.clientOptions())
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (n *Node) clientOptions() *goredis.Options {
	o := &goredis.Options{Addr: n.Addr(), Username: n.sec.User, Password: n.sec.Password}
	if n.certs != nil {
		o.TLSConfig = n.certs.ClientTLS()
	}
	return o
}

// Stop kills the node (SIGKILL, as in a crash) and waits for it to exit.
// Stopping a stopped node does nothing.
func (n *Node) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil {
		n.proc.kill()
		n.proc = nil
	}
}

// Output returns what the node has logged, for failure messages.
func (n *Node) Output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return ""
	}
	return n.proc.output()
}

// launch writes the configuration for n.port, starts redis-server and
// waits until it answers.
func (n *Node) launch() error {
	conf := filepath.Join(n.dir, "redis.conf")
	if err := os.WriteFile(conf, n.config(), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	args := []string{conf}
	if n.kind == sentinelNode {
		args = append(args, "--sentinel")
	}
	p, err := run(n.bin, args...)
	if err != nil {
		return err
	}
	if err := waitReady(n.pid, p); err != nil {
		p.kill()
		return fmt.Errorf("port %d: %w\n%s", n.port, err, p.output())
	}
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	return nil
}

// config renders the configuration file: loopback only, persistence off,
// the logs on stdout, then TLS, ACL and the kind's own directives.
func (n *Node) config() []byte {
	lines := [][]string{
		{"bind", "127.0.0.1"},
		{"dir", n.dir},
		{"daemonize", "no"},
		{"logfile", ""},
		{"loglevel", "warning"},
	}
	if n.kind != sentinelNode {
		lines = append(lines, []string{"save", ""}, []string{"appendonly", "no"})
	}
	if n.sec.TLS {
		auth := "no"
		if n.sec.ClientCerts {
			auth = "yes"
		}
		lines = append(lines,
			[]string{"port", "0"},
			[]string{"tls-port", strconv.Itoa(n.port)},
			[]string{"tls-cert-file", n.certs.CertFile},
			[]string{"tls-key-file", n.certs.KeyFile},
			[]string{"tls-ca-cert-file", n.certs.CAFile},
			[]string{"tls-auth-clients", auth},
			[]string{"tls-replication", "yes"},
		)
		if n.kind == clusterNode {
			lines = append(lines, []string{"tls-cluster", "yes"})
		}
	} else {
		lines = append(lines, []string{"port", strconv.Itoa(n.port)})
	}
	if n.sec.User != "" {
		lines = append(lines, []string{"user", "default", "off"}, aclUser(n.sec.User, n.sec.Password))
	}
	if n.kind == clusterNode {
		lines = append(lines,
			[]string{"cluster-enabled", "yes"},
			[]string{"cluster-config-file", filepath.Join(n.dir, "nodes.conf")},
			[]string{"cluster-port", strconv.Itoa(n.busPort)},
			[]string{"cluster-node-timeout", "5000"},
		)
	}
	lines = append(lines, n.extra...)
	var b bytes.Buffer
	for _, l := range lines {
		for i, arg := range l {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Quote(arg))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// pid asks the node for its process id on a fresh connection.
func (n *Node) pid() (int, error) {
	d := &net.Dialer{Timeout: time.Second}
	var conn net.Conn
	var err error
	if n.certs != nil {
		conn, err = tls.DialWithDialer(d, "tcp", n.Addr(), n.certs.ClientTLS())
	} else {
		conn, err = d.Dial("tcp", n.Addr())
	}
	if err != nil {
		return 0, err
	}
	return probePID(conn, n.sec.User, n.sec.Password)
}

// probePID authenticates on conn if user is set, asks for INFO server and
// returns the process id. It closes conn.
func probePID(conn net.Conn, user, password string) (int, error) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var req bytes.Buffer
	if user != "" {
		writeCommand(&req, "AUTH", user, password)
	}
	writeCommand(&req, "INFO", "server")
	if _, err := conn.Write(req.Bytes()); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	if user != "" {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if !strings.HasPrefix(line, "+OK") {
			return 0, fmt.Errorf("AUTH refused: %q", strings.TrimSpace(line))
		}
	}
	header, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(header, "$")))
	if !strings.HasPrefix(header, "$") || err != nil || size < 0 {
		return 0, fmt.Errorf("unexpected reply %q", header) // e.g. -LOADING
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("no process_id in INFO server")
}

// writeCommand appends args to b as a RESP array of bulk strings.
func writeCommand(b *bytes.Buffer, args ...string) {
	fmt.Fprintf(b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(b, "$%d\r\n%s\r\n", len(a), a)
	}
}

// nodeURL builds a redis:// or rediss:// URL for addr with sec's user.
func nodeURL(sec Security, addr, path string) string {
	u := url.URL{Scheme: "redis", Host: addr, Path: path}
	if sec.TLS {
		u.Scheme = "rediss"
	}
	if sec.User != "" {
		u.User = url.UserPassword(sec.User, sec.Password)
	}
	return u.String()
}

// waitFor calls check every 50 ms until it returns nil or readyTimeout
// passes, and then fails t with the last error.
func waitFor(t testing.TB, what string, check func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %s: not within %v: %v", what, readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
