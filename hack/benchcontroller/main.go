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

// Command benchcontroller measures the manager: the time from
// `kubectl apply` of N AuthUsers (with their Secrets) to all of them Ready,
// once with pre-hashed Secrets and once with plaintext ones, as users/s and,
// for plaintext, as a ratio to the hash-bound ceiling (cores ÷ one argon2id
// hash, measured in this run); and the manager's peak RSS.
//
// It runs the real kube-apiserver and etcd (envtest binaries, see
// hack/setup-envtest.sh), a redis-server, the authstack binary as the
// manager, and kubectl. Run it with `make bench-controller`.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/testenv"
)

func main() {
	n := flag.Int("users", 2000, "AuthUsers per phase")
	binary := flag.String("binary", "bin/authstack", "authstack binary (make build)")
	flag.Parse()
	if err := run(*n, *binary, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchcontroller:", err)
		os.Exit(1)
	}
}

// run measures; managerArgs are extra flags for the manager.
func run(n int, binary string, managerArgs []string) error {
	bin, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "authstack-benchcontroller-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	defer benchkit.KillAll()

	benchkit.Progress("starting kube-apiserver and etcd")
	env := &envtest.Environment{CRDDirectoryPaths: []string{"config/crd/bases"}, ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: testenv.Assets()}
	cfg, err := env.Start()
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			benchkit.Progress("stopping kube-apiserver and etcd: %v", err)
		}
	}()
	admin, err := env.ControlPlane.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}

	rds, err := benchkit.StartRedis(context.Background(), "redis-server", work)
	if err != nil {
		return err
	}
	defer rds.Stop()

	startManager := func(ns string) (*benchkit.Child, error) {
		args := append([]string{"manager", "--kubeconfig", kubeconfig, "--redis-url", rds.URL,
			"--namespace", ns, "--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--log-level", "error"}, managerArgs...)
		return benchkit.Command{Name: "manager", Path: bin, Args: args, Echo: os.Stderr}.Start()
	}
	var peak int64
	stopManager := func(mgr *benchkit.Child) {
		if m, err := benchkit.ReadMemory(mgr.PID()); err == nil {
			peak = max(peak, m.Peak)
		}
		mgr.Stop(time.Minute)
	}
	apply := func(ns string, hashed bool) (time.Duration, error) {
		file := filepath.Join(work, ns+".yaml")
		if err := os.WriteFile(file, manifests(ns, n, hashed), 0o600); err != nil {
			return 0, err
		}
		if out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "create", "namespace", ns).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("create namespace: %v: %s", err, out)
		}
		start := time.Now()
		if out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", file).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("kubectl apply: %v: %s", err, tail(out))
		}
		return time.Since(start), nil
	}
	waitReady := func(ns string, start time.Time) (time.Duration, error) {
		for {
			ready, err := countReady(c, ns)
			if err != nil {
				return 0, err
			}
			if ready == n {
				return time.Since(start), nil
			}
			if time.Since(start) > 30*time.Minute {
				return 0, fmt.Errorf("%s: only %d of %d Ready after 30 min", ns, ready, n)
			}
			// Listing thousands of objects costs the API server CPU that the
			// manager competes for: poll once a second (±1 s on the result).
			time.Sleep(time.Second)
		}
	}

	hashTime := medianHash(15)
	cores := runtime.NumCPU()
	ceiling := float64(cores) / hashTime.Seconds()
	benchkit.Progress("one argon2id hash (m=19 MiB, t=2, p=1): %v; ceiling %d cores ÷ hash = %.1f users/s", hashTime, cores, ceiling)

	type result struct {
		mode, secrets string
		hashed        bool
		elapsed       time.Duration
		apply         time.Duration
	}
	var results []result
	for _, hashed := range []bool{true, false} {
		secrets, short := "plaintext (the manager hashes)", "plain"
		if hashed {
			secrets, short = "pre-hashed (argon2id in the Secret)", "hashed"
		}
		// Live: the manager runs while kubectl applies.
		ns := "live-" + short
		mgr, err := startManager(ns)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // cache sync
		benchkit.Progress("live, %s: kubectl apply of %d users and their Secrets", secrets, n)
		start := time.Now()
		applied, err := apply(ns, hashed)
		if err != nil {
			return err
		}
		elapsed, err := waitReady(ns, start)
		if err != nil {
			return err
		}
		stopManager(mgr)
		benchkit.Progress("live, %s: all Ready %v after kubectl apply began (kubectl apply took %v)", secrets, elapsed.Round(time.Millisecond), applied.Round(time.Millisecond))
		results = append(results, result{"kubectl apply → all Ready", secrets, hashed, elapsed, applied})

		// Cold: everything applied first, then the manager starts (a new
		// install, or a store that lost its data): the manager alone.
		ns = "cold-" + short
		if _, err = apply(ns, hashed); err != nil {
			return err
		}
		benchkit.Progress("cold, %s: %d users applied; starting the manager", secrets, n)
		start = time.Now()
		if mgr, err = startManager(ns); err != nil {
			return err
		}
		if elapsed, err = waitReady(ns, start); err != nil {
			return err
		}
		stopManager(mgr)
		benchkit.Progress("cold, %s: all Ready %v after the manager started", secrets, elapsed.Round(time.Millisecond))
		results = append(results, result{"manager start → all Ready", secrets, hashed, elapsed, 0})
	}

	fmt.Printf("### Manager: %d AuthUsers from kubectl apply to Ready (%s)\n\n", n, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Printf("Manager flags beyond the defaults: %q.\n\n", managerArgs)
	fmt.Printf("%d cores; one argon2id hash (m=19 MiB, t=2, p=1) in this run: %v, so the hash-bound ceiling is %.1f users/s.\n\n", cores, hashTime.Round(100*time.Microsecond), ceiling)
	fmt.Println("| Measured | Secrets | time | users/s | ratio to the hash-bound ceiling | kubectl apply alone |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range results {
		rate := float64(n) / r.elapsed.Seconds()
		ratio := "—"
		if !r.hashed {
			ratio = fmt.Sprintf("%.2f", rate/ceiling)
		}
		apply := "—"
		if r.apply > 0 {
			apply = r.apply.Round(100 * time.Millisecond).String()
		}
		fmt.Printf("| %s | %s | %v | %.1f | %s | %s |\n", r.mode, r.secrets, r.elapsed.Round(100*time.Millisecond), rate, ratio, apply)
	}
	fmt.Printf("\nManager peak RSS (VmHWM), highest of the four runs: %s.\n", benchkit.MiB(peak))
	return nil
}

// manifests renders n Secrets and AuthUsers; hashed Secrets hold argon2id
// hashes made here (in parallel, before the clock starts).
func manifests(ns string, n int, hashed bool) []byte {
	docs := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := fmt.Sprintf("user-%05d", i)
			pw := "password-of-" + name
			var secret, ref string
			if hashed {
				h, err := password.DefaultParams.Hash([]byte(pw))
				if err != nil {
					panic(err)
				}
				secret = fmt.Sprintf("  passwordHash: %s\n", strconv.Quote(h))
				ref = "passwordHashSecretRef"
			} else {
				secret = fmt.Sprintf("  password: %s\n", pw)
				ref = "passwordSecretRef"
			}
			docs[i] = fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\nstringData:\n%s---\n"+
				"apiVersion: authstack.dev/v1alpha1\nkind: AuthUser\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  username: %s-%s\n  %s:\n    name: %s\n  scopes: [read]\n",
				name, ns, secret, name, ns, ns, name, ref, name)
		}()
	}
	wg.Wait()
	return []byte(strings.Join(docs, "---\n"))
}

func countReady(c client.Client, ns string) (int, error) {
	var list v1alpha1.AuthUserList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	n := 0
	for _, u := range list.Items {
		if meta.IsStatusConditionTrue(u.Status.Conditions, v1alpha1.ConditionTypeReady) {
			n++
		}
	}
	return n, nil
}

func medianHash(samples int) time.Duration {
	d := make([]time.Duration, samples)
	for i := range d {
		start := time.Now()
		if _, err := password.DefaultParams.Hash([]byte("benchmark password")); err != nil {
			panic(err)
		}
		d[i] = time.Since(start)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[samples/2]
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}
