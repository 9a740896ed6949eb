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

package cmd

import (
	"github.com/spf13/pflag"

	redisstore "github.com/authstack/authstack/internal/store/redis"
)

// redisFlags are the Redis connection flags `server` and `manager` share
// beyond --redis-url and --redis-key-prefix: TLS files and the sentinels'
// own credentials. Secrets are best given through the environment
// (AUTHSTACK_REDIS_URL, AUTHSTACK_REDIS_SENTINEL_PASSWORD), which does not
// show in the process list.
type redisFlags struct {
	tlsCA, tlsCert, tlsKey, tlsServerName string
	sentinelUsername, sentinelPassword    string
}

func (f *redisFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.tlsCA, "redis-tls-ca", "", "PEM bundle of the CAs that sign the Redis servers' certificates (default: the system roots; rediss URLs only)")
	fs.StringVar(&f.tlsCert, "redis-tls-cert", "", "PEM client certificate for Redis servers that require one (mTLS), with --redis-tls-key")
	fs.StringVar(&f.tlsKey, "redis-tls-key", "", "PEM key of --redis-tls-cert")
	fs.StringVar(&f.tlsServerName, "redis-tls-server-name", "", "name every Redis certificate is checked against (default: the host of each connection)")
	fs.StringVar(&f.sentinelUsername, "redis-sentinel-username", "", "ACL user for the sentinels, if not the URL's (\"default\" alone: sentinels without a password)")
	fs.StringVar(&f.sentinelPassword, "redis-sentinel-password", "", "password for the sentinels, if not the URL's")
}

// options returns the store options for url and prefix with these flags.
func (f *redisFlags) options(url, prefix string) redisstore.Options {
	return redisstore.Options{
		URL:              url,
		KeyPrefix:        prefix,
		SentinelUsername: f.sentinelUsername,
		SentinelPassword: f.sentinelPassword,
		TLSCAFile:        f.tlsCA,
		TLSCertFile:      f.tlsCert,
		TLSKeyFile:       f.tlsKey,
		TLSServerName:    f.tlsServerName,
	}
}
