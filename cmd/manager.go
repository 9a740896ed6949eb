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
	"net/http"
	"os"
	"time"

	"github.com/go-logr/logr"
	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/authstack/authstack/controllers"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
)

type managerOptions struct {
	kubeconfig      string
	metricsAddr     string
	pprofAddr       string
	probeAddr       string
	leaderElect     bool
	leaderElectNS   string
	redisURL        string
	keyPrefix       string
	redis           redisFlags
	argon2          argon2Flags
	hashCostFactor  uint
	resyncPeriod    time.Duration
	epochInterval   time.Duration
	concurrency     int
	logLevel        string
	storeRetryDelay time.Duration
	namespaces      []string
	kubeQPS         float32
	kubeBurst       int
	signingKeys     signingkeys.Options
	signingKeysSet  bool // --signing-keys-secret given explicitly
	publicClientID  string
	selfNamespace   string
	selfPod         string
	secretSelector  string
	loginState      credentials.LoginStateOptions
}

// DefaultKubeAPIQPS turns client-go's client-side rate limit off: the API
// server's Priority and Fairness protects it, fairly across clients, and a
// fixed client budget only makes a large install slow (docs/operations.md,
// "The manager's throughput").
const DefaultKubeAPIQPS = -1

func newManagerCommand() *cobra.Command {
	o := &managerOptions{}
	c := &cobra.Command{
		Use:   "manager",
		Short: "Run the controller: AuthUser and AuthClient resources into Redis",
		Long: "Run the controller manager: it reconciles AuthUser and AuthClient resources into the Redis\n" +
			"credential store the token servers read, hashing plaintext passwords with argon2id.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.redisURL == "" {
				return errors.New("--redis-url is required")
			}
			log, err := newLogger(o.logLevel)
			if err != nil {
				return err
			}
			ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
			goredis.SetLogger(redisLogger{log})
			o.signingKeysSet = cmd.Flags().Changed("signing-keys-secret")
			// The server's signal handling rather than ctrl.SetupSignalHandler,
			// which ignores cmd.Context(), cannot be released, and panics when
			// called twice in one process (the command's tests).
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return runManager(ctx, o, log)
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of the metrics endpoint (0: off)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz probes")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles")
	fs.StringVar(&o.leaderElectNS, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's)")
	fs.StringVar(&o.redisURL, "redis-url", "", "Redis URL of the credential store: redis[s]://, redis[s]+sentinel:// or redis[s]+cluster:// (docs/redis-deployments.md)")
	fs.StringVar(&o.keyPrefix, "redis-key-prefix", redisstore.DefaultKeyPrefix, "prefix of every Redis key (the same as the token servers')")
	o.redis.addFlags(fs)
	o.argon2.addFlags(fs, "for hashing plaintext passwords (use the token servers' value)")
	addCostFactorFlag(fs, &o.hashCostFactor)
	fs.DurationVar(&o.resyncPeriod, "resync-period", 10*time.Minute, "period of the full resync that repairs any drift between resources and the store")
	fs.DurationVar(&o.epochInterval, "epoch-check-interval", 5*time.Second, "how often the store is checked for lost data (its epoch marker)")
	fs.IntVar(&o.concurrency, "max-concurrent-reconciles", 0, fmt.Sprintf("reconciles run at once per kind (0: %d, or GOMAXPROCS if more; hashes run at most GOMAXPROCS at once)", credentials.DefaultMaxConcurrentReconciles))
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&o.storeRetryDelay, "redis-connect-retry", 2*time.Second, "pause between attempts to reach Redis at start-up")
	fs.StringSliceVar(&o.namespaces, "namespace", nil, "namespaces to watch (default: all); AuthUsers elsewhere are ignored")
	fs.Float32Var(&o.kubeQPS, "kube-api-qps", DefaultKubeAPIQPS,
		"queries per second to the API server (negative: no client-side limit; the API server's Priority and Fairness queues or refuses what it cannot serve, docs/operations.md)")
	fs.IntVar(&o.kubeBurst, "kube-api-burst", 200, "burst of queries to the API server, with a positive --kube-api-qps")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "address of the Go profiling endpoints, /debug/pprof/ (empty: off)")
	fs.StringVar(&o.signingKeys.Name, "signing-keys-secret", "authstack-signing-keys", "Secret of the token servers' signing keys, created and rotated by the manager (empty: keys are not managed; docs/signing-keys.md)")
	fs.StringVar(&o.signingKeys.Namespace, "signing-keys-namespace", "", "namespace of the signing-keys Secret (default: $POD_NAMESPACE)")
	fs.DurationVar(&o.signingKeys.RotationPeriod, "signing-key-rotation-period", signingkeys.DefaultRotationPeriod, "how long a signing key stays active")
	fs.DurationVar(&o.signingKeys.PublishDelay, "signing-key-publish-delay", signingkeys.DefaultPublishDelay, "how long a new key is published in JWKS before it signs")
	fs.StringVar(&o.signingKeys.Alg, "signing-key-alg", "ES256", "algorithm of new signing keys: ES256, ES384, EdDSA or RS256 (kube-apiserver verifies all but EdDSA; docs/kubernetes.md)")
	fs.StringVar(&o.publicClientID, "public-client-id", credentials.DefaultPublicClientID,
		"the token servers' --public-client-id: only an AuthClient in the manager's namespace may define that client ID (empty: none is reserved)")
	fs.StringVar(&o.selfNamespace, "manager-namespace", os.Getenv("POD_NAMESPACE"), "the manager's own namespace (default: $POD_NAMESPACE)")
	fs.StringVar(&o.selfPod, "manager-pod", os.Getenv("POD_NAME"),
		"the manager's Pod (default: $POD_NAME), which Events for the operator regard (who holds a contested name)")
	fs.StringVar(&o.secretSelector, "secret-selector", "",
		"label selector of the only Secrets the manager reads (e.g. authstack.dev/credentials=true); others are treated as missing")
	fs.DurationVar(&o.loginState.SyncPeriod, "login-state-sync-period", credentials.DefaultLoginStateSyncPeriod,
		"how often the users' last logins and throttles are read from the store into their AuthUsers' status (0: never)")
	fs.DurationVar(&o.loginState.Resolution, "login-state-resolution", credentials.DefaultLoginStateResolution,
		"least advance of a user's last login that is written to its status (LAST-LOGIN lags the store by less)")
	fs.Float64Var(&o.loginState.WritesPerSecond, "login-state-writes-per-second", credentials.DefaultLoginStateWritesPerSecond,
		"status writes of last logins and throttles per second at most, whatever the number of users (docs/operations.md)")
	annotateEnv(fs)
	return c
}

func runManager(ctx context.Context, o *managerOptions, log *slog.Logger) error {
	p := o.argon2.params()
	if err := p.Validate(); err != nil {
		return err
	}
	if err := resolveKeysNamespace(o, log); err != nil {
		return err
	}
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.kubeQPS, o.kubeBurst
	st, err := connectStore(ctx, o, log)
	if err != nil {
		return err
	}
	defer st.Close()
	secretSel, err := labels.Parse(o.secretSelector)
	if err != nil {
		return fmt.Errorf("--secret-selector: %w", err)
	}
	if o.loginState.SyncPeriod == 0 {
		o.loginState.SyncPeriod = -1 // off
	}
	resync := o.resyncPeriod
	cacheOpts := cache.Options{SyncPeriod: &resync}
	if len(o.namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range o.namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  controllers.Scheme(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "authstack-manager.authstack.dev",
		LeaderElectionNamespace: o.leaderElectNS,
		// Leases are released on shutdown, so a new leader takes over at
		// once during a rolling update.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         credentials.CacheOptions(cacheOpts, secretSel),
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if err := controllers.Setup(ctx, mgr, controllers.Options{
		Credentials: credentials.Options{
			Store: st, HashParams: p, HashCostFactor: o.hashCostFactor, EpochInterval: o.epochInterval, MaxConcurrentReconciles: o.concurrency,
			OrphanInterval: o.resyncPeriod, Namespaces: o.namespaces,
			PublicClientID: o.publicClientID, ManagerNamespace: o.selfNamespace, ManagerPod: o.selfPod,
			SecretSelector: secretSel, LoginState: o.loginState,
		},
		SigningKeys: o.signingKeys,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	// Ready once the cache has synced; a Redis outage is reported on each
	// object (StoreUnavailable) rather than by taking the manager out.
	if err := mgr.AddReadyzCheck("readyz", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return errors.New("cache not synced")
		}
		return nil
	}); err != nil {
		return err
	}
	log.Info("Starting manager", "leaderElection", o.leaderElect, "resyncPeriod", o.resyncPeriod.String())
	return mgr.Start(ctx)
}

// resolveKeysNamespace defaults the signing-keys namespace to
// $POD_NAMESPACE. Without either, key management is an error when
// --signing-keys-secret was given, and is turned off with a warning when it
// was left at its default (a manager run outside a pod).
func resolveKeysNamespace(o *managerOptions, log *slog.Logger) error {
	if o.signingKeys.Name == "" || o.signingKeys.Namespace != "" {
		return nil
	}
	if o.signingKeys.Namespace = os.Getenv("POD_NAMESPACE"); o.signingKeys.Namespace != "" {
		return nil
	}
	if o.signingKeysSet {
		return errors.New("--signing-keys-namespace (or $POD_NAMESPACE) is required with --signing-keys-secret")
	}
	log.Warn("Signing keys are not managed: no --signing-keys-namespace or $POD_NAMESPACE")
	o.signingKeys.Name = ""
	return nil
}

// restConfig loads the kubeconfig given, else $KUBECONFIG or in-cluster.
func restConfig(path string) (*rest.Config, error) {
	if path != "" {
		return clientcmd.BuildConfigFromFlags("", path)
	}
	return ctrl.GetConfig()
}

// connectStore connects to Redis, retrying until it answers or ctx ends:
// a manager that starts before Redis waits for it.
func connectStore(ctx context.Context, o *managerOptions, log *slog.Logger) (*redisstore.Store, error) {
	for {
		st, err := redisstore.New(ctx, o.redis.options(o.redisURL, o.keyPrefix))
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			return nil, err // a configuration error: retrying will not help
		}
		log.Warn("Cannot reach Redis; retrying", "error", err.Error())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(o.storeRetryDelay):
		}
	}
}
