//go:build linux

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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

const (
	replicas = 3
	issuer   = "http://auth.soak.test"
	// userPassword is every load user's password (one hash, shared).
	userPassword = "correct horse battery staple"
	// requestTimeout bounds one request: the server refuses overload
	// within its hash-queue timeout, so anything near this is a failure.
	requestTimeout = 30 * time.Second
)

// grantPassword is the password grant's grant_type.
const grantPassword = "password"

// hashQueueTimeout is the replicas' --hash-queue-timeout (the default):
// the overload's bound on the latency of successes is twice it.
const hashQueueTimeout = 2 * time.Second

// cluster is Redis and the three replicas, and one HTTP client per source
// address.
type cluster struct {
	rds     *benchkit.Redis
	st      *redisstore.Store
	servers []*serverproc.Server
	clients []*http.Client // clients[i] connects from 127.0.0.(i+2)
	hash    string         // the argon2id hash of userPassword
}

// startCluster starts redis-server, writes the users the chosen mode
// needs, and starts the replicas on one signing key.
func startCluster(ctx context.Context, o options, binary, redisBin, dir string) (*cluster, error) {
	rds, err := benchkit.StartRedis(ctx, redisBin, dir)
	if err != nil {
		return nil, err
	}
	c := &cluster{rds: rds}
	if c.st, err = redisstore.New(ctx, redisstore.Options{URL: rds.URL}); err != nil {
		c.stop()
		return nil, err
	}
	if c.hash, err = password.DefaultParams.Hash([]byte(userPassword)); err != nil {
		c.stop()
		return nil, err
	}
	n := o.users
	if o.overload {
		n = max(n, o.overloadUsers)
	}
	names := make([]string, 0, n+1)
	for i := range n {
		names = append(names, loadUser(i))
	}
	if o.overload {
		names = append(names, probeUser)
	}
	for _, name := range names {
		if err := c.st.PutUser(ctx, store.User{Username: name, PasswordHash: c.hash, Scopes: []string{"read"}, Source: "soak/" + name}); err != nil {
			c.stop()
			return nil, err
		}
	}
	keys := filepath.Join(dir, "keys")
	if err := serverproc.WriteKey(keys); err != nil {
		c.stop()
		return nil, err
	}
	// The server runs as docs/operations.md recommends deploying it.
	env := append([]string{"GODEBUG=madvdontneed=0"}, strings.Fields(o.replicaEnv)...)
	args := append([]string{"--access-token-ttl", o.accessTTL.String(), "--refresh-token-ttl", o.refreshTTL.String(),
		"--hash-queue-timeout", hashQueueTimeout.String(), "--log-level", "warn"}, strings.Fields(o.replicaArgs)...)
	for i := range replicas {
		s, err := serverproc.Start(binary, dir, fmt.Sprint("replica-", i), rds.URL, issuer, keys, env, args...)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.servers = append(c.servers, s)
	}
	for i := range o.addrs {
		c.clients = append(c.clients, newClient(net.IPv4(127, 0, 0, byte(i+2))))
	}
	return c, nil
}

func (c *cluster) stop() {
	for _, s := range c.servers {
		s.Stop()
	}
	for _, cl := range c.clients {
		cl.CloseIdleConnections()
	}
	if c.st != nil {
		_ = c.st.Close()
	}
	c.rds.Stop()
}

// loadUser is the name of load user i.
func loadUser(i int) string { return fmt.Sprintf("user-%04d", i) }

// probeUser logs in at a low rate during the overload.
const probeUser = "probe"

// newClient is a keep-alive client whose connections come from src: the
// replicas see each address as another client (authserver/clientip takes
// the TCP peer when no proxy is trusted), so throttles and per-address
// figures see many clients.
func newClient(src net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// reply is what one request got.
type reply struct {
	status     int // 0: no response
	body       []byte
	retryAfter string
	latency    time.Duration
	// wire is the time from the request written to the first byte of the
	// response (httptrace): without the wait for a connection and the
	// read of the body.
	wire time.Duration
	err  error
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %.200s", r.status, bytes.TrimSpace(r.body))
}

// do sends req from source address addr and reads the whole answer.
func (c *cluster) do(addr int, req *http.Request) reply {
	// Offsets from start, set on the transport's goroutines.
	var wrote, first atomic.Int64
	start := time.Now()
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote.Store(int64(time.Since(start))) },
		GotFirstResponseByte: func() { first.Store(int64(time.Since(start))) },
	}))
	resp, err := c.clients[addr%len(c.clients)].Do(req)
	if err != nil {
		return reply{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return reply{status: resp.StatusCode, body: body, retryAfter: resp.Header.Get("Retry-After"), latency: time.Since(start),
		wire: time.Duration(first.Load() - wrote.Load()), err: err}
}

// post posts form to path on a replica.
func (c *cluster) post(ctx context.Context, addr, replica int, path string, form url.Values) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.servers[replica%replicas].URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(addr, req)
}

func (c *cluster) login(ctx context.Context, addr, replica int, user, pw string) reply {
	return c.post(ctx, addr, replica, "/token", url.Values{"grant_type": {grantPassword}, "username": {user}, "password": {pw}})
}

func (c *cluster) refresh(ctx context.Context, addr, replica int, refreshToken string) reply {
	return c.post(ctx, addr, replica, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func (c *cluster) revoke(ctx context.Context, addr, replica int, tok, hint string) reply {
	return c.post(ctx, addr, replica, "/revoke", url.Values{"token": {tok}, "token_type_hint": {hint}, "client_id": {"default"}})
}

func (c *cluster) verify(ctx context.Context, addr, replica int, accessToken string) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.servers[replica%replicas].URL+"/verify", nil)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return c.do(addr, req)
}

// tokens are the tokens of a 200 from /token.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func parseTokens(r reply) (tokens, bool) {
	var t tokens
	return t, r.status == http.StatusOK && json.Unmarshal(r.body, &t) == nil && t.Access != "" && t.Refresh != ""
}

// oauthError is the error code of an OAuth error body.
func oauthError(r reply) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}
