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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/signer"
	redisstore "github.com/authstack/authstack/internal/store/redis"
)

// redisLogger sends go-redis's own messages (dial failures, pool events)
// to the JSON log instead of its plain stderr lines.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "Redis client", "message", fmt.Sprintf(format, v...))
}

func newServerCommand() *cobra.Command {
	o := &serverOptions{}
	var redisURL, keyPrefix, keysDir string
	var redisOpts redisFlags
	var keysReload time.Duration
	var serviceAccounts serviceAccountFlags
	c := &cobra.Command{
		Use:   "server",
		Short: "Run the token server on Redis",
		Long: "Run the OAuth 2.0 token server: the password and refresh_token grants on /token, RFC 9068 JWT\naccess tokens, /revoke, /introspect, /verify (forward auth),\n" +
			"discovery, JWKS and /userinfo, with credentials and throttle counters in Redis.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if redisURL == "" || keysDir == "" || o.issuer == "" {
				return errors.New("--redis-url, --signing-keys and --issuer are required")
			}
			log, err := newLogger(o.logLevel)
			if err != nil {
				return err
			}
			saVerifier, err := serviceAccounts.verifier(o.issuer)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			tlsConfig, err := o.tls.config(ctx, log)
			if err != nil {
				return err
			}
			goredis.SetLogger(redisLogger{log})
			st, err := redisstore.New(ctx, redisOpts.options(redisURL, keyPrefix))
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := signer.WatchDir(ctx, keysDir, keysReload, log)
			if err != nil {
				return err
			}
			o.hashWorkers = spareProc(o.hashWorkers)
			cfg := o.config()
			cfg.Store, cfg.Keys, cfg.Logger, cfg.ServiceAccounts = st, keys, log, saVerifier
			auditLog, err := o.openAudit(&cfg)
			if err != nil {
				return err
			}
			defer auditLog.Close()
			l, err := listen(o)
			if err != nil {
				return err
			}
			l.TLS = tlsConfig
			return serve(ctx, cfg, l, o.shutdownGrace)
		},
	}
	fs := c.Flags()
	o.addFlags(fs, ":8080", ":9090", 5*time.Second)
	fs.StringVar(&redisURL, "redis-url", "", "Redis URL: redis[s]://, redis[s]+sentinel:// or redis[s]+cluster://, with user and password if ACLs are on (docs/redis-deployments.md)")
	fs.StringVar(&keyPrefix, "redis-key-prefix", "authstack", "prefix of every Redis key")
	redisOpts.addFlags(fs)
	fs.StringVar(&keysDir, "signing-keys", "", "directory of PEM signing keys; active.pem signs, the rest only verify")
	fs.DurationVar(&keysReload, "signing-keys-reload-interval", 10*time.Second, "how often the key directory is re-read")
	serviceAccounts.addFlags(fs)
	annotateEnv(fs)
	return c
}

// listen opens o's API and operations listeners.
func listen(o *serverOptions) (authserver.Listeners, error) {
	api, err := net.Listen("tcp", o.addr)
	if err != nil {
		return authserver.Listeners{}, fmt.Errorf("listen: %w", err)
	}
	l := authserver.Listeners{API: api}
	if o.metricsAddr != "" {
		if l.Ops, err = net.Listen("tcp", o.metricsAddr); err != nil {
			api.Close()
			return authserver.Listeners{}, fmt.Errorf("listen: %w", err)
		}
	}
	return l, nil
}

// serve builds the server from cfg and runs it on l until ctx ends.
func serve(ctx context.Context, cfg authserver.Config, l authserver.Listeners, grace time.Duration) error {
	srv, err := authserver.New(cfg)
	if err != nil {
		l.API.Close()
		if l.Ops != nil {
			l.Ops.Close()
		}
		return err
	}
	return srv.Run(ctx, l, grace)
}

// spareProc returns the hash pool's workers (0: GOMAXPROCS) and makes sure
// the runtime has one P more than them. With as many Ps as hash workers,
// an overloaded server runs a hash on every P, and a request arriving
// meanwhile, even one answered 503 at once, waits runnable until Go
// preempts a hash (10 ms, more on a busy machine) or one ends: the spare P
// runs the network and the handlers while every worker hashes; the hashes
// still use only the workers' share of the CPU. GOMAXPROCS is then fixed
// at start, as the pool's workers are: a new CPU limit takes effect at the
// next start (docs/operations.md).
func spareProc(workers int) int {
	procs := runtime.GOMAXPROCS(0)
	if workers <= 0 {
		workers = procs
	}
	if procs <= workers {
		runtime.GOMAXPROCS(workers + 1)
	}
	return workers
}
