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

package redis

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/testing/redistest"
)

func TestParseOptionsTopologies(t *testing.T) {
	certs := redistest.NewCerts(t)
	t.Run("standalone", func(t *testing.T) {
		c, err := parseOptions(Options{URL: "redis://app:pw@db.example:6380/2"})
		if err != nil {
			t.Fatal(err)
		}
		o := c.single
		if o == nil || c.failover != nil || c.cluster != nil {
			t.Fatalf("want standalone options only: %+v", c)
		}
		if o.Addr != "db.example:6380" || o.DB != 2 || o.Username != "app" || o.Password != "pw" || o.TLSConfig != nil {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		c, err := parseOptions(Options{URL: "unix://app:pw@/run/redis/redis.sock?db=1"})
		if err != nil {
			t.Fatal(err)
		}
		if o := c.single; o.Network != "unix" || o.Addr != "/run/redis/redis.sock" || o.DB != 1 || o.Password != "pw" {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("standalone TLS", func(t *testing.T) {
		c, err := parseOptions(Options{URL: "rediss://:pw@db.example:6380", TLSCAFile: certs.CAFile,
			TLSCertFile: certs.ClientCertFile, TLSKeyFile: certs.ClientKeyFile})
		if err != nil {
			t.Fatal(err)
		}
		o := c.single
		if o.Username != "" || o.Password != "pw" {
			t.Errorf("user %q, password %q; want the default user with pw", o.Username, o.Password)
		}
		wantTLS(t, o.TLSConfig, "", true, true)
	})
	t.Run("sentinel", func(t *testing.T) {
		c, err := parseOptions(Options{
			URL: "redis+sentinel://app:pw@s1.example:26379/3?addr=s2.example:26379&addr=s3.example:26379&master_name=main",
		})
		if err != nil {
			t.Fatal(err)
		}
		o := c.failover
		if o == nil || c.single != nil || c.cluster != nil {
			t.Fatalf("want failover options only: %+v", c)
		}
		if want := []string{"s1.example:26379", "s2.example:26379", "s3.example:26379"}; !reflect.DeepEqual(o.SentinelAddrs, want) {
			t.Errorf("sentinels %v, want %v", o.SentinelAddrs, want)
		}
		if o.MasterName != "main" || o.DB != 3 || o.TLSConfig != nil {
			t.Errorf("options %+v", o)
		}
		// The user info authenticates to the data nodes and the sentinels.
		if o.Username != "app" || o.Password != "pw" || o.SentinelUsername != "app" || o.SentinelPassword != "pw" {
			t.Errorf("credentials: data %q/%q, sentinel %q/%q", o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
		}
	})
	t.Run("sentinel credentials", func(t *testing.T) {
		for _, tc := range []struct {
			user, password         string
			wantUser, wantPassword string
		}{
			{"admin", "spw", "admin", "spw"},
			{"", "spw", "", "spw"},         // requirepass on the sentinels
			{"default", "", "default", ""}, // sentinels without a password
		} {
			c, err := parseOptions(Options{URL: "rediss+sentinel://app:pw@s1:26379?master_name=m",
				SentinelUsername: tc.user, SentinelPassword: tc.password})
			if err != nil {
				t.Fatal(err)
			}
			o := c.failover
			if o.Username != "app" || o.Password != "pw" || o.SentinelUsername != tc.wantUser || o.SentinelPassword != tc.wantPassword {
				t.Errorf("%q/%q: data %q/%q, sentinel %q/%q", tc.user, tc.password, o.Username, o.Password, o.SentinelUsername, o.SentinelPassword)
			}
			wantTLS(t, o.TLSConfig, "", false, false)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		c, err := parseOptions(Options{URL: "rediss+cluster://app:pw@n1.example:7000/0?addr=n2.example:7000",
			TLSCAFile: certs.CAFile, TLSServerName: "redis.internal"})
		if err != nil {
			t.Fatal(err)
		}
		o := c.cluster
		if o == nil || c.single != nil || c.failover != nil {
			t.Fatalf("want cluster options only: %+v", c)
		}
		if want := []string{"n1.example:7000", "n2.example:7000"}; !reflect.DeepEqual(o.Addrs, want) {
			t.Errorf("nodes %v, want %v", o.Addrs, want)
		}
		if o.Username != "app" || o.Password != "pw" {
			t.Errorf("credentials %q/%q", o.Username, o.Password)
		}
		wantTLS(t, o.TLSConfig, "redis.internal", true, false)
	})
}

// wantTLS checks a TLS configuration built from a rediss URL.
func wantTLS(t *testing.T, c *tls.Config, serverName string, ownCA, clientCert bool) {
	t.Helper()
	if c == nil {
		t.Fatal("no TLS configuration")
	}
	if c.ServerName != serverName || c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
		t.Errorf("ServerName %q (want %q), MinVersion %x, InsecureSkipVerify %v", c.ServerName, serverName, c.MinVersion, c.InsecureSkipVerify)
	}
	if (c.RootCAs != nil) != ownCA {
		t.Errorf("RootCAs set: %v, want %v", c.RootCAs != nil, ownCA)
	}
	if (len(c.Certificates) == 1) != clientCert {
		t.Errorf("%d client certificates, want one: %v", len(c.Certificates), clientCert)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	const secret = "hunter2"
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string // in the error
	}{
		{"no URL", Options{}, "no URL"},
		{"http", Options{URL: "http://u:" + secret + "@h:1"}, "unsupported URL scheme"},
		{"no scheme", Options{URL: "u:" + secret + "@h:6379"}, "unsupported URL scheme"},
		{"unix socket with TLS options", Options{URL: "unix:///run/redis.sock", TLSCAFile: notPEM}, "need a rediss"},
		{"bad port", Options{URL: "redis://u:" + secret + "@h:port/0"}, "invalid redis URL"},
		{"bad database", Options{URL: "redis://u:" + secret + "@h:1/x"}, "invalid redis URL"},
		{"unknown parameter", Options{URL: "redis+sentinel://u:" + secret + "@h:1?master_name=m&colour=blue"}, "invalid redis URL"},
		{"bad addr", Options{URL: "redis+cluster://u:" + secret + "@h:1?addr=" + secret}, "invalid redis URL"},
		{"password parameter", Options{URL: "redis+sentinel://h:1?master_name=m&password=" + secret}, "query parameter password"},
		{"sentinel password parameter", Options{URL: "redis://h:1?sentinel_password=" + secret}, "query parameter sentinel_password"},
		{"no master name", Options{URL: "redis+sentinel://u:" + secret + "@h:26379"}, "master_name"},
		{"cluster database", Options{URL: "redis+cluster://u:" + secret + "@h:1/3"}, "database 0 only"},
		{"sentinel credentials elsewhere", Options{URL: "redis://h:1", SentinelPassword: secret}, "need a redis+sentinel"},
		{"TLS options without TLS", Options{URL: "redis+cluster://h:1", TLSCAFile: notPEM}, "need a rediss"},
		{"server name without TLS", Options{URL: "redis://h:1", TLSServerName: "h"}, "need a rediss"},
		{"certificate without key", Options{URL: "rediss://h:1", TLSCertFile: notPEM}, "both the certificate and the key"},
		{"missing CA", Options{URL: "rediss://h:1", TLSCAFile: filepath.Join(dir, "missing.crt")}, "TLS CA"},
		{"CA not PEM", Options{URL: "rediss://h:1", TLSCAFile: notPEM}, "no PEM certificate"},
		{"bad key pair", Options{URL: "rediss://h:1", TLSCertFile: notPEM, TLSKeyFile: notPEM}, "TLS client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOptions(tc.opts)
			if err == nil {
				t.Fatal("parseOptions succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the URL's secret: %v", err)
			}
		})
	}
}

// The fail-fast defaults apply to every topology, and the URL's query
// parameters win over them.
func TestParseOptionsFailFast(t *testing.T) {
	type got struct {
		dial, read, write, backoff, pool, dialerPause time.Duration
		retries, dialerRetries                        int
	}
	defaults := got{defaultDialTimeout, defaultReadTimeout, defaultWriteTimeout, defaultMaxRetryBackoff,
		defaultPoolTimeout, defaultDialerRetryTimeout, defaultMaxRetries, defaultDialerRetries}
	overridden := defaults
	overridden.read, overridden.retries = 3*time.Second, 5
	for _, tc := range []struct {
		url  string
		want got
	}{
		{"redis://h:1", defaults},
		{"redis+sentinel://h:1?master_name=m", defaults},
		{"redis+cluster://h:1", defaults},
		{"redis://h:1?read_timeout=3s&max_retries=5", overridden},
		{"redis+sentinel://h:1?master_name=m&read_timeout=3s&max_retries=5", overridden},
		{"redis+cluster://h:1?read_timeout=3s&max_retries=5", overridden},
	} {
		c, err := parseOptions(Options{URL: tc.url})
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		var g got
		switch {
		case c.single != nil:
			o := c.single
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetryBackoff, o.PoolTimeout, o.DialerRetryTimeout, o.MaxRetries, o.DialerRetries}
		case c.failover != nil:
			o := c.failover
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetryBackoff, o.PoolTimeout, o.DialerRetryTimeout, o.MaxRetries, o.DialerRetries}
		default:
			o := c.cluster
			g = got{o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetryBackoff, o.PoolTimeout, o.DialerRetryTimeout, o.MaxRetries, o.DialerRetries}
		}
		if g != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.url, g, tc.want)
		}
	}
	// dialer_retries can be set in Sentinel and Cluster URLs.
	c, err := parseOptions(Options{URL: "redis+cluster://h:1?dialer_retries=4"})
	if err != nil || c.cluster.DialerRetries != 4 || c.cluster.DialerRetryTimeout != defaultDialerRetryTimeout {
		t.Errorf("dialer_retries=4: %+v, %v", c.cluster, err)
	}
}
