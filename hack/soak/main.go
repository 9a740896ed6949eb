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

// Command soak runs the token server as it is deployed, for long, and
// checks that nothing degrades: three `authstack server` replicas on one
// redis-server (same signing key), on loopback.
//
// Both modes first measure the /token capacity of the three replicas
// (closed loop of password grants, as hack/bench's token phase).
//
// The soak (default) then runs -duration at -load × that capacity with a
// mix of logins, /verify, refreshes, revocations (each checked refused on
// another replica) and user changes (password change, disable, re-enable,
// written to Redis as the manager writes them), and checks: zero
// unexpected responses, RSS drift of each replica after -warmup, Redis
// memory beyond what the live sessions need, and the revocation mirror's
// size.
//
// -overload instead offers -overload-factor × the capacity from many users
// and source addresses for -overload-duration, while one more user logs
// in at a low rate, and checks goodput, the 503 refusals, the latency of
// the successes and peak RSS.
//
// -scrape-config writes a Prometheus file_sd file of the replicas' (and
// with -manager the manager's) metrics addresses, labelled as the chart's
// ServiceMonitors label them, for a Prometheus to scrape the run with
// (make dashboard-screenshot). -manager also runs a kube-apiserver
// (envtest) and `authstack manager` on the soak's Redis, serving a few
// AuthUsers of its own namespace.
//
// It writes a Markdown report to stdout (and -out) and exits 1 when a
// check fails. Everything runs on 127.0.0.1 (and other 127.0.0.0/8
// source addresses); every loop is bounded in time and count.
//
// Usage (after make build): go run ./hack/soak -binary bin/authstack [-duration 10m] [-overload]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

type options struct {
	binary, redisBin, out string
	overload              bool
	// scrapeConfig is a Prometheus file_sd file to write of every
	// process's metrics address; manager also runs the manager.
	scrapeConfig string
	manager      bool
	// replicaEnv and replicaArgs are added to every replica's environment
	// and command line (space-separated), to compare settings.
	replicaEnv, replicaArgs string

	capacityTime time.Duration // measured part of the capacity phase
	users        int           // users of the mix (and of the capacity phase)
	addrs        int           // source addresses 127.0.0.2 ...

	// soak
	duration, warmup, sample time.Duration
	load                     float64 // fraction of the session capacity offered
	think                    time.Duration
	verifies, revokeEvery    int
	churnUsers               int
	changeEvery              time.Duration
	accessTTL, refreshTTL    time.Duration

	// overload
	overloadFactor float64
	overloadTime   time.Duration
	overloadUsers  int
	overloadCap    int
	probeAttempts  int
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/authstack", "authstack binary (make build)")
	flag.StringVar(&o.redisBin, "redis-server", "redis-server", "redis-server binary")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.BoolVar(&o.overload, "overload", false, "run the overload instead of the soak")
	flag.StringVar(&o.scrapeConfig, "scrape-config", "", "write a Prometheus file_sd file of every process's metrics address (labels namespace=authstack, pod) here")
	flag.BoolVar(&o.manager, "manager", false, "also run kube-apiserver (envtest) and the manager on the soak's Redis, serving a few AuthUsers in namespace authstack")
	flag.StringVar(&o.replicaEnv, "replica-env", "", "more environment of the replicas, space-separated (GOMAXPROCS=3)")
	flag.StringVar(&o.replicaArgs, "replica-args", "", "more flags of the replicas, space-separated (--hash-workers 2)")
	flag.DurationVar(&o.capacityTime, "capacity-duration", 10*time.Second, "measured part of the /token capacity phase")
	flag.IntVar(&o.users, "users", 300, "users the mix logs in as")
	flag.IntVar(&o.addrs, "addresses", 16, "loopback source addresses (127.0.0.2 on) the load comes from")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "length of the soak")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Minute, "start of the soak its drift checks leave out")
	flag.DurationVar(&o.sample, "sample", 5*time.Second, "interval of the RSS, Redis and mirror samples")
	flag.Float64Var(&o.load, "load", 0.8, "sessions per second offered, as a fraction of the measured capacity of whole sessions (the user changes' logins taken off)")
	flag.DurationVar(&o.think, "think", time.Second, "pause between the steps of one session")
	flag.IntVar(&o.verifies, "verifies", 4, "/verify calls per session after the login (one more after the refresh)")
	flag.IntVar(&o.revokeEvery, "revoke-every", 10, "one session in this many is revoked (refresh or access token, alternately)")
	flag.IntVar(&o.churnUsers, "churn-users", 20, "users whose records change (password, disable, re-enable) during the soak")
	flag.DurationVar(&o.changeEvery, "change-every", 2*time.Second, "interval of the user changes")
	flag.DurationVar(&o.accessTTL, "access-token-ttl", 30*time.Second, "the replicas' --access-token-ttl (short, so the mirror reaches its steady state within the warm-up)")
	flag.DurationVar(&o.refreshTTL, "refresh-token-ttl", 90*time.Second, "the replicas' --refresh-token-ttl (short, so sessions expire during the soak)")
	flag.Float64Var(&o.overloadFactor, "overload-factor", 8, "offered /token rate in the overload, as a multiple of the capacity")
	flag.DurationVar(&o.overloadTime, "overload-duration", 30*time.Second, "length of the overload")
	flag.IntVar(&o.overloadUsers, "overload-users", 1024, "users the overload logs in as")
	flag.IntVar(&o.overloadCap, "overload-concurrency", 1024, "most overload requests in flight")
	flag.IntVar(&o.probeAttempts, "probe-attempts", 30, "attempts (honouring Retry-After) the concurrent user's login gets in the overload")
	flag.Parse()
	if flag.NArg() > 0 || o.users < 6 || o.addrs < 1 || o.addrs > 200 || o.load <= 0 || o.duration <= o.warmup+2*time.Minute ||
		o.churnUsers < 1 || o.revokeEvery < 1 || o.overloadFactor <= 0 || o.overloadUsers < 1 || o.overloadCap < 1 || o.probeAttempts < 1 {
		fmt.Fprintln(os.Stderr, "soak: bad flags (the soak needs -duration ≥ -warmup + 2m: one minute after the warm-up and one at the end)")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep, err := run(ctx, o)
	stop()
	benchkit.KillAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	rep.write(&buf)
	_, _ = os.Stdout.Write(buf.Bytes())
	if o.out != "" {
		if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
	}
	if rep.failed() {
		fmt.Fprintln(os.Stderr, "soak: a check failed (see the report)")
		os.Exit(1)
	}
}

// run starts everything, measures the capacity and runs the chosen mode.
func run(ctx context.Context, o options) (*report, error) {
	binary, err := exec.LookPath(o.binary)
	if err != nil {
		return nil, fmt.Errorf("binary %s: %w (run make build)", o.binary, err)
	}
	redisBin, err := exec.LookPath(o.redisBin)
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w (make test-deps installs it)", o.redisBin, err)
	}
	tmp, err := os.MkdirTemp("", "authstack-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep := &report{opts: o, started: time.Now(), cores: runtime.NumCPU(), load0: benchkit.LoadAverage()}
	c, err := startCluster(ctx, o, binary, redisBin, tmp)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	var mgr *manager
	if o.manager {
		if mgr, err = startManager(ctx, binary, c.rds.URL, tmp); err != nil {
			return nil, err
		}
		defer mgr.stop()
	}
	if o.scrapeConfig != "" {
		if err := writeScrapeConfig(o.scrapeConfig, c, mgr); err != nil {
			return nil, err
		}
	}
	if rep.capacity, err = measureCapacity(ctx, c, o); err != nil {
		return nil, fmt.Errorf("capacity: %w", err)
	}
	if o.overload {
		rep.overload, err = runOverload(ctx, c, o, rep.capacity)
	} else {
		rep.soak, err = runSoak(ctx, c, o, rep.capacity)
	}
	rep.took, rep.load1 = time.Since(rep.started), benchkit.LoadAverage()
	return rep, err
}
