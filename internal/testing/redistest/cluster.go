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
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Cluster is a Redis Cluster of three masters without replicas.
type Cluster struct {
	t     testing.TB
	sec   Security
	nodes [3]*Node
}

// StartCluster launches three cluster nodes on free ports (each with its
// own bus port and nodes.conf in a temporary directory), gives each a
// third of the slots, joins them (CLUSTER MEET) and waits until every node
// reports cluster_state:ok and knows the other two. With sec.TLS the
// cluster bus uses TLS too (tls-cluster yes). The nodes are stopped at
// cleanup.
func StartCluster(t testing.TB, sec Security) *Cluster {
	t.Helper()
	var certs *Certs
	if sec.TLS {
		certs = NewCerts(t)
	}
	c := &Cluster{t: t, sec: sec}
	for i := range c.nodes {
		c.nodes[i] = startNode(t, clusterNode, sec, certs)
	}

	clients := make([]*goredis.Client, len(c.nodes))
	for i, n := range c.nodes {
		clients[i] = n.Client()
	}
	waitFor(t, "assign slots and meet", func(ctx context.Context) error {
		for i, cl := range clients {
			first := i * clusterSlots / len(c.nodes)
			last := (i+1)*clusterSlots/len(c.nodes) - 1
			assigned, err := slotAssigned(ctx, cl, first)
			if err != nil {
				return err
			}
			if !assigned {
				if err := cl.ClusterAddSlotsRange(ctx, first, last).Err(); err != nil {
					return fmt.Errorf("node %d: CLUSTER ADDSLOTSRANGE: %w", i, err)
				}
			}
		}
		for i, n := range c.nodes[1:] {
			// The bus port is not port+10000 here, so MEET names it.
			err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, n.busPort).Err()
			if err != nil {
				return fmt.Errorf("node %d: CLUSTER MEET: %w", i+1, err)
			}
		}
		return nil
	})
	for i, cl := range clients {
		waitFor(t, fmt.Sprintf("cluster node %d reports cluster_state:ok", i), func(ctx context.Context) error {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			for _, want := range []string{
				"cluster_state:ok",
				"cluster_slots_assigned:" + strconv.Itoa(clusterSlots),
				"cluster_known_nodes:" + strconv.Itoa(len(c.nodes)),
			} {
				if !strings.Contains(info, want+"\r\n") {
					return fmt.Errorf("no %s in CLUSTER INFO", want)
				}
			}
			return nil
		})
	}
	return c
}

// slotAssigned reports whether the node behind cl knows an owner of slot,
// so that a retried setup does not assign a slot twice.
func slotAssigned(ctx context.Context, cl *goredis.Client, slot int) (bool, error) {
	// CLUSTER SHARDS (Redis 7.0, the floor docs/redis.md sets) replaces the
	// deprecated CLUSTER SLOTS.
	shards, err := cl.ClusterShards(ctx).Result()
	if err != nil {
		return false, err
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if r.Start <= int64(slot) && int64(slot) <= r.End {
				return true, nil
			}
		}
	}
	return false, nil
}

// URL returns a redis+cluster:// (rediss+cluster:// with TLS) URL naming
// the three nodes, as authstack's Redis store accepts it, with the ACL
// user and password if there is one.
func (c *Cluster) URL() string {
	u, err := url.Parse(nodeURL(c.sec, c.nodes[0].Addr(), ""))
	if err != nil {
		c.t.Fatalf("redistest: %v", err)
	}
	u.Scheme += "+cluster"
	q := url.Values{}
	for _, n := range c.nodes[1:] {
		q.Add("addr", n.Addr())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Nodes returns the three nodes.
func (c *Cluster) Nodes() []*Node { return c.nodes[:] }

// Certs returns the cluster's certificates, nil without TLS.
func (c *Cluster) Certs() *Certs { return c.nodes[0].certs }

// Client returns a go-redis cluster client, closed at cleanup.
func (c *Cluster) Client() *goredis.ClusterClient {
	o := c.nodes[0].clientOptions()
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:    c.Addrs(),
		Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
	})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Addrs returns the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.Addr()
	}
	return out
}
