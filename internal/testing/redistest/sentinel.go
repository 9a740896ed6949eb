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
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// MasterName is the name under which StartSentinel's sentinels monitor
// the primary.
const MasterName = "mymaster"

// SentinelOptions configures StartSentinel.
type SentinelOptions struct {
	// Security applies to the data nodes and the sentinels alike: the ACL
	// user is defined on both (replication authenticates with it:
	// masteruser, masterauth), and so is TLS.
	Security
	// SentinelUser and SentinelPassword, when set, add an ACL user on the
	// sentinels only, which the sentinels also use among themselves.
	SentinelUser, SentinelPassword string
	// OpenSentinels leaves the sentinels without ACL users or password,
	// while the data nodes keep theirs. It excludes SentinelUser.
	OpenSentinels bool
}

// Sentinel is a primary, a replica and three sentinels (quorum 2)
// monitoring them as MasterName.
type Sentinel struct {
	t         testing.TB
	opts      SentinelOptions
	data      [2]*Node
	sentinels [3]*Node
}

// StartSentinel launches a primary, a replica and three sentinels on free
// ports, waits until the replica is in sync and every sentinel knows the
// replica and the other two sentinels, and registers the shutdown of all
// five with t.Cleanup.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	if (opts.SentinelUser == "") != (opts.SentinelPassword == "") {
		t.Fatal("redistest: set both SentinelUser and SentinelPassword, or neither")
	}
	if opts.OpenSentinels && opts.SentinelUser != "" {
		t.Fatal("redistest: OpenSentinels excludes SentinelUser")
	}
	var certs *Certs
	if opts.TLS {
		certs = NewCerts(t)
	}
	s := &Sentinel{t: t, opts: opts}

	// Both data nodes authenticate to whichever is primary: the roles swap
	// on failover.
	// A full sync starts at once rather than after the 5 s Redis waits
	// for more replicas by default.
	repl := [][]string{{"repl-diskless-sync-delay", "0"}}
	if opts.User != "" {
		repl = append(repl, []string{"masteruser", opts.User}, []string{"masterauth", opts.Password})
	}
	s.data[0] = startNode(t, dataNode, opts.Security, certs, repl...)
	primary := s.data[0]
	s.data[1] = startNode(t, dataNode, opts.Security, certs,
		append(slices.Clip(repl), []string{"replicaof", "127.0.0.1", strconv.Itoa(primary.port)})...)

	// The sentinels' own user (for the probe and among sentinels) is
	// SentinelUser if set, else the data user; the other is added.
	sentSec, extraUser := opts.Security, []string(nil)
	if opts.OpenSentinels {
		sentSec.User, sentSec.Password = "", ""
	}
	if opts.SentinelUser != "" {
		sentSec.User, sentSec.Password = opts.SentinelUser, opts.SentinelPassword
		if opts.User != "" {
			extraUser = aclUser(opts.User, opts.Password)
		}
	}
	conf := [][]string{
		{"sentinel", "monitor", MasterName, "127.0.0.1", strconv.Itoa(primary.port), "2"},
		// Long enough that a loaded machine never fails over by itself;
		// Failover forces one.
		{"sentinel", "down-after-milliseconds", MasterName, "10000"},
		{"sentinel", "failover-timeout", MasterName, "20000"},
	}
	if opts.User != "" {
		conf = append(conf,
			[]string{"sentinel", "auth-user", MasterName, opts.User},
			[]string{"sentinel", "auth-pass", MasterName, opts.Password})
	}
	if sentSec.User != "" {
		conf = append(conf,
			[]string{"sentinel", "sentinel-user", sentSec.User},
			[]string{"sentinel", "sentinel-pass", sentSec.Password})
	}
	if extraUser != nil {
		conf = append(conf, extraUser)
	}
	for i := range s.sentinels {
		s.sentinels[i] = startNode(t, sentinelNode, sentSec, certs, conf...)
	}

	waitFor(t, "replica in sync", func(ctx context.Context) error {
		return replicaInSync(ctx, s.data[1])
	})
	for i, sn := range s.sentinels {
		c := sn.sentinelClient()
		waitFor(t, fmt.Sprintf("sentinel %d discovers the replica and the other sentinels", i), func(ctx context.Context) error {
			replicas, err := c.Replicas(ctx, MasterName).Result()
			if err != nil {
				return err
			}
			if len(replicas) != 1 || strings.Contains(replicas[0]["flags"], "down") || strings.Contains(replicas[0]["flags"], "disconnected") {
				return fmt.Errorf("replicas %v", replicas)
			}
			others, err := c.Sentinels(ctx, MasterName).Result()
			if err != nil {
				return err
			}
			if len(others) != len(s.sentinels)-1 {
				return fmt.Errorf("knows %d other sentinels", len(others))
			}
			return nil
		})
	}
	return s
}

// URL returns a redis+sentinel:// (rediss+sentinel:// with TLS) URL naming
// the three sentinels and MasterName, as authstack's Redis store accepts
// it, with the data nodes' ACL user and password if there is one.
func (s *Sentinel) URL() string {
	u, err := url.Parse(nodeURL(s.opts.Security, s.sentinels[0].Addr(), "/0"))
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	u.Scheme += "+sentinel"
	q := url.Values{"master_name": {MasterName}}
	for _, sn := range s.sentinels[1:] {
		q.Add("addr", sn.Addr())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Addrs returns the sentinels' host:port addresses.
func (s *Sentinel) Addrs() []string {
	out := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		out[i] = sn.Addr()
	}
	return out
}

// Certs returns the deployment's certificates, nil without TLS.
func (s *Sentinel) Certs() *Certs { return s.data[0].certs }

// Sentinels returns the three sentinels.
func (s *Sentinel) Sentinels() []*Node { return s.sentinels[:] }

// Primary returns the data node the first sentinel names as primary. It
// fails t, the calling test, if there is none.
func (s *Sentinel) Primary(t testing.TB) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := s.sentinels[0].primaryAddr(ctx)
	if err != nil {
		t.Fatalf("redistest: ask sentinel for the primary: %v", err)
	}
	for _, n := range s.data {
		if n.Addr() == addr {
			return n
		}
	}
	t.Fatalf("redistest: sentinel names %s as primary, which is none of the data nodes", addr)
	return nil
}

// Replica returns the data node that is not Primary.
func (s *Sentinel) Replica(t testing.TB) *Node {
	t.Helper()
	if p := s.Primary(t); p == s.data[0] {
		return s.data[1]
	}
	return s.data[0]
}

// WaitReplicated waits until the replica has every write the primary has
// accepted so far: it writes a marker key (redistest:wait) and runs WAIT 1
// on the same connection, which covers all earlier writes of any client.
func (s *Sentinel) WaitReplicated(t testing.TB) {
	t.Helper()
	c := s.Primary(t).Client()
	waitFor(t, "replica acknowledges the primary's writes", func(ctx context.Context) error {
		pipe := c.Pipeline()
		pipe.Set(ctx, "redistest:wait", time.Now().UnixNano(), 0)
		wait := pipe.Do(ctx, "WAIT", 1, 1000) // one replica, 1000 ms
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		if n, err := wait.Int(); err != nil || n < 1 {
			return errors.New("no replica acknowledged")
		}
		return nil
	})
}

// Failover makes the sentinels promote the replica (SENTINEL FAILOVER,
// which needs no agreement and no outage) and waits until every sentinel
// names it and it answers as a primary. It returns the new primary, and
// fails t, the calling test, if that takes longer than the ready timeout.
// Writes the replica had not received are lost, as in a real failover;
// call WaitReplicated first to keep them.
func (s *Sentinel) Failover(t testing.TB) *Node {
	t.Helper()
	old, next := s.Primary(t), s.Replica(t)
	c := s.sentinels[0].sentinelClient()
	waitFor(t, "SENTINEL FAILOVER accepted", func(ctx context.Context) error {
		err := c.Failover(ctx, MasterName).Err()
		if err != nil && strings.HasPrefix(err.Error(), "INPROG") {
			return nil
		}
		return err // NOGOODSLAVE until the sentinel has fresh INFO from the replica
	})
	for i, sn := range s.sentinels {
		waitFor(t, fmt.Sprintf("sentinel %d names the new primary", i), func(ctx context.Context) error {
			addr, err := sn.primaryAddr(ctx)
			if err != nil {
				return err
			}
			if addr != next.Addr() {
				return fmt.Errorf("names %s, want %s (old primary %s)", addr, next.Addr(), old.Addr())
			}
			return nil
		})
	}
	nc := next.Client()
	waitFor(t, "new primary answers as primary", func(ctx context.Context) error {
		info, err := nc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "role:master") {
			return errors.New("not yet role:master")
		}
		return nil
	})
	return next
}

// sentinelClient returns a go-redis client for a sentinel, closed at
// cleanup.
func (n *Node) sentinelClient() *goredis.SentinelClient {
	c := goredis.NewSentinelClient(n.clientOptions())
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

// primaryAddr asks a sentinel for the primary's address.
func (n *Node) primaryAddr(ctx context.Context) (string, error) {
	c := goredis.NewSentinelClient(n.clientOptions())
	defer c.Close()
	hp, err := c.GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("unexpected reply %v", hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// replicaInSync checks that n replicates with its link up.
func replicaInSync(ctx context.Context, n *Node) error {
	c := goredis.NewClient(n.clientOptions())
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "master_link_status:up") {
		return errors.New("master_link_status is not up")
	}
	return nil
}
