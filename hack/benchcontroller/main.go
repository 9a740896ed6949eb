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
// hash, measured in this run) and to the hashes/s of as many hashes at once
// as cores, measured too; and the manager's peak RSS.
//
// It runs the real kube-apiserver and etcd (envtest binaries, see
// hack/setup-envtest.sh), a redis-server, the authstack binary as the
// manager, and kubectl. Run it with `make bench-controller`.
//
// Each cold phase also reports the API requests the manager made per user
// (from the kube-apiserver's apiserver_request_total), the CPU each process
// used per user (the manager, kube-apiserver, etcd, redis-server, the bench)
// and the load average, and, with -server,
// the token server's side of a large install: `authstack server` on the
// same Redis, its peak RSS, Redis's used_memory, and a /token for the user
// applied last.
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
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/serverproc"
	"github.com/authstack/authstack/internal/testing/testenv"
)

func main() {
	var o options
	flag.IntVar(&o.n, "users", 2000, "AuthUsers per phase")
	flag.StringVar(&o.binary, "binary", "bin/authstack", "authstack binary (make build)")
	modes := flag.String("modes", "live,cold", "phases to run: live (the manager runs while kubectl applies), cold (the manager starts after)")
	secrets := flag.String("secrets", "hashed,plain", "Secrets to measure: hashed (argon2id in the Secret), plain (the manager hashes)")
	flag.BoolVar(&o.server, "server", false, "also run `authstack server` on the same Redis: its RSS, Redis memory, and a /token for the user applied last")
	flag.Parse()
	o.live, o.cold = strings.Contains(*modes, "live"), strings.Contains(*modes, "cold")
	o.hashed, o.plain = strings.Contains(*secrets, "hashed"), strings.Contains(*secrets, "plain")
	o.managerArgs = flag.Args()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchcontroller:", err)
		os.Exit(1)
	}
}

// options are the command line's.
type options struct {
	n                                 int
	binary                            string
	live, cold, hashed, plain, server bool
	managerArgs                       []string // extra flags for the manager
}

// result is one phase's.
type result struct {
	mode, secrets string
	hashed        bool
	elapsed       time.Duration
	apply         time.Duration // kubectl apply alone (live)
	peak          int64         // the manager's VmHWM
	requests      string        // API requests per user by the manager (cold)
	cpu           string        // CPU per user of each process, and the load (cold)
	login         string        // with -server: a /token for the user applied last
}

// bench is one run's world.
type bench struct {
	options
	bin, work, kubeconfig string
	cfg                   *rest.Config
	c                     client.WithWatch
	rds                   *benchkit.Redis
	server                *serverproc.Server // with -server
	users                 int                // AuthUsers applied so far, all phases
}

func run(o options) error {
	b := &bench{options: o}
	var err error
	if b.bin, err = filepath.Abs(o.binary); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "authstack-benchcontroller-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	defer benchkit.KillAll()

	benchkit.Progress("starting kube-apiserver and etcd")
	env := &envtest.Environment{CRDDirectoryPaths: []string{"config/crd/bases"}, ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: testenv.Assets()}
	if b.cfg, err = env.Start(); err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			benchkit.Progress("stopping kube-apiserver and etcd: %v", err)
		}
	}()
	if err := b.connect(env); err != nil {
		return err
	}
	if b.rds, err = benchkit.StartRedis(context.Background(), "redis-server", b.work); err != nil {
		return err
	}
	defer b.rds.Stop()
	if o.server {
		if b.server, err = startServer(b.bin, b.work, b.rds.URL); err != nil {
			return err
		}
		defer b.server.Stop()
	}

	hashTime := medianHash(15)
	cores := runtime.NumCPU()
	ceiling := float64(cores) / hashTime.Seconds()
	measured := parallelHashRate(cores, 7)
	benchkit.Progress("one argon2id hash (m=19 MiB, t=2, p=1): %v; ceiling %d cores ÷ hash = %.1f users/s; %d hashing at once: %.1f hashes/s",
		hashTime, cores, ceiling, cores, measured)

	var results []result
	for _, hashed := range []bool{true, false} {
		if (hashed && !o.hashed) || (!hashed && !o.plain) {
			continue
		}
		if o.live {
			r, err := b.livePhase(hashed)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		if o.cold {
			r, err := b.coldPhase(hashed)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	b.report(results, hashTime, cores, ceiling, measured)
	return nil
}

// connect writes the kubeconfig of an admin for kubectl and the manager,
// and makes the bench's own client (no client-side rate limit).
func (b *bench) connect(env *envtest.Environment) error {
	admin, err := env.ControlPlane.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	b.kubeconfig = filepath.Join(b.work, "kubeconfig")
	if err := os.WriteFile(b.kubeconfig, kc, 0o600); err != nil {
		return err
	}
	b.cfg = rest.CopyConfig(b.cfg)
	b.cfg.QPS = -1
	b.c, err = client.NewWithWatch(b.cfg, client.Options{Scheme: testenv.Scheme()})
	return err
}

func (b *bench) startManager(ns string) (*benchkit.Child, error) {
	args := append([]string{"manager", "--kubeconfig", b.kubeconfig, "--redis-url", b.rds.URL,
		"--namespace", ns, "--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0", "--log-level", "error"}, b.managerArgs...)
	return benchkit.Command{Name: "manager", Path: b.bin, Args: args, Echo: os.Stderr}.Start()
}

// stopManager stops it and returns its peak RSS.
func stopManager(mgr *benchkit.Child) int64 {
	var peak int64
	if m, err := benchkit.ReadMemory(mgr.PID()); err == nil {
		peak = m.Peak
	}
	mgr.Stop(time.Minute)
	return peak
}

func secretsName(hashed bool) (long, short string) {
	if hashed {
		return "pre-hashed (argon2id in the Secret)", "hashed"
	}
	return "plaintext (the manager hashes)", "plain"
}

// livePhase: the manager runs while kubectl applies.
func (b *bench) livePhase(hashed bool) (result, error) {
	secrets, short := secretsName(hashed)
	ns := "live-" + short
	mgr, err := b.startManager(ns)
	if err != nil {
		return result{}, err
	}
	time.Sleep(2 * time.Second) // cache sync
	benchkit.Progress("live, %s: kubectl apply of %d users and their Secrets", secrets, b.n)
	start := time.Now()
	applied, err := b.kubectlApply(ns, hashed)
	if err != nil {
		return result{}, err
	}
	elapsed, err := b.waitReady(ns, start)
	if err != nil {
		return result{}, err
	}
	r := result{mode: "kubectl apply → all Ready", secrets: secrets, hashed: hashed, elapsed: elapsed, apply: applied, peak: stopManager(mgr)}
	benchkit.Progress("live, %s: all Ready %v after kubectl apply began (kubectl apply took %v)", secrets, elapsed.Round(time.Millisecond), applied.Round(time.Millisecond))
	return r, nil
}

// coldPhase: everything is created first, then the manager starts (a new
// install, or a store that lost its data): the manager alone.
func (b *bench) coldPhase(hashed bool) (result, error) {
	secrets, short := secretsName(hashed)
	ns := "cold-" + short
	if err := b.create(ns, hashed); err != nil {
		return result{}, err
	}
	benchkit.Progress("cold, %s: %d users created; starting the manager", secrets, b.n)
	before, err := apiRequests(b.cfg)
	if err != nil {
		return result{}, err
	}
	cpu, err := b.startCPU(0)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	mgr, err := b.startManager(ns)
	if err != nil {
		return result{}, err
	}
	elapsed, err := b.waitReady(ns, start)
	if err != nil {
		return result{}, err
	}
	used, err := cpu.stop(mgr.PID(), b.n)
	if err != nil {
		return result{}, err
	}
	after, err := apiRequests(b.cfg)
	if err != nil {
		return result{}, err
	}
	r := result{mode: "manager start → all Ready", secrets: secrets, hashed: hashed, elapsed: elapsed,
		requests: perUser(before, after, b.n), cpu: used}
	if b.server != nil {
		name := userName(b.n - 1)
		if r.login, err = login(b.server, ns+"-"+name, passwordOf(name, hashed)); err != nil {
			return result{}, err
		}
	}
	r.peak = stopManager(mgr)
	benchkit.Progress("cold, %s: all Ready %v after the manager started; API requests per user: %s; CPU: %s", secrets, elapsed.Round(time.Millisecond), r.requests, r.cpu)
	return r, nil
}

func (b *bench) kubectlApply(ns string, hashed bool) (time.Duration, error) {
	b.users += b.n
	objs := objects(ns, b.n, hashed)
	docs := make([][]byte, len(objs))
	for i, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return 0, err
		}
		docs[i] = y
	}
	file := filepath.Join(b.work, ns+".yaml")
	if err := os.WriteFile(file, bytes.Join(docs, []byte("---\n")), 0o600); err != nil {
		return 0, err
	}
	if out, err := exec.Command("kubectl", "--kubeconfig", b.kubeconfig, "create", "namespace", ns).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("create namespace: %v: %s", err, out)
	}
	start := time.Now()
	if out, err := exec.Command("kubectl", "--kubeconfig", b.kubeconfig, "apply", "--server-side", "-f", file).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("kubectl apply: %v: %s", err, tail(out))
	}
	return time.Since(start), nil
}

// create makes the namespace and its objects with many creates at once
// (faster than kubectl, and the clock has not started).
func (b *bench) create(ns string, hashed bool) error {
	b.users += b.n
	ctx := context.Background()
	if err := b.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	objs := objects(ns, b.n, hashed)
	work := make(chan client.Object)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := b.c.Create(ctx, o); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// waitReady waits until all b.n AuthUsers of ns are Ready: one LIST, then
// a watch from its resourceVersion (a new LIST if the watch ends). The API
// server sends the bench each change once, where a LIST a second made it
// encode every object again, on the cores the manager competes for; and the
// time is that of the change, not of the next poll.
func (b *bench) waitReady(ns string, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	for {
		var list v1alpha1.AuthUserList
		if err := b.c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return 0, fmt.Errorf("%s: not all %d Ready: %w", ns, b.n, err)
		}
		ready := map[string]bool{}
		n := 0
		see := func(u *v1alpha1.AuthUser, gone bool) {
			now := !gone && meta.IsStatusConditionTrue(u.Status.Conditions, v1alpha1.ConditionTypeReady)
			switch was := ready[u.Name]; {
			case now && !was:
				n++
			case !now && was:
				n--
			}
			ready[u.Name] = now
		}
		for i := range list.Items {
			see(&list.Items[i], false)
		}
		if n == b.n {
			return time.Since(start), nil
		}
		w, err := b.c.Watch(ctx, &v1alpha1.AuthUserList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return 0, fmt.Errorf("%s: watch: %w", ns, err)
		}
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*v1alpha1.AuthUser)
			if !ok {
				break // an error (the resourceVersion expired): list again
			}
			see(u, ev.Type == watch.Deleted)
			if n == b.n {
				w.Stop()
				return time.Since(start), nil
			}
		}
		w.Stop()
	}
}

func (b *bench) report(results []result, hashTime time.Duration, cores int, ceiling, measured float64) {
	fmt.Printf("### Manager: %d AuthUsers from kubectl apply to Ready (%s)\n\n", b.n, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Printf("Manager flags beyond the defaults: %q.\n\n", b.managerArgs)
	fmt.Printf("%d cores; one argon2id hash (m=19 MiB, t=2, p=1) in this run: %v, so the hash-bound ceiling is %.1f users/s; "+
		"%d hashes at a time, measured: %.1f hashes/s.\n\n", cores, hashTime.Round(100*time.Microsecond), ceiling, cores, measured)
	fmt.Println("| Measured | Secrets | time | users/s | ratio to the hash-bound ceiling | ratio to the hashes/s measured | kubectl apply alone | manager peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	var peak int64
	for _, r := range results {
		rate := float64(b.n) / r.elapsed.Seconds()
		ratio, ratioMeasured := "—", "—"
		if !r.hashed {
			ratio, ratioMeasured = fmt.Sprintf("%.2f", rate/ceiling), fmt.Sprintf("%.2f", rate/measured)
		}
		apply := "—"
		if r.apply > 0 {
			apply = r.apply.Round(100 * time.Millisecond).String()
		}
		peak = max(peak, r.peak)
		fmt.Printf("| %s | %s | %v | %.1f | %s | %s | %s | %s |\n", r.mode, r.secrets, r.elapsed.Round(100*time.Millisecond), rate, ratio, ratioMeasured, apply, benchkit.MiB(r.peak))
	}
	fmt.Printf("\nManager peak RSS (VmHWM), highest of the runs: %s.\n\n", benchkit.MiB(peak))
	for _, r := range results {
		if r.requests != "" {
			fmt.Printf("- API requests per user by the manager, %s, %s (apiserver_request_total, LIST and WATCH left out): %s\n", r.mode, r.secrets, r.requests)
		}
		if r.cpu != "" {
			fmt.Printf("- CPU, %s, %s: %s\n", r.mode, r.secrets, r.cpu)
		}
		if r.login != "" {
			fmt.Printf("- %s, %s: a /token for the user applied last: %s\n", r.mode, r.secrets, r.login)
		}
	}
	if b.server != nil {
		if m, err := benchkit.ReadMemory(b.server.PID()); err == nil {
			fmt.Printf("- Token server peak RSS (VmHWM), on the same Redis: %s\n", benchkit.MiB(m.Peak))
		}
		if used, err := redisUsedMemory(b.rds); err == nil {
			fmt.Printf("- Redis used_memory with %d users' records: %s (%d bytes per user)\n", b.users, benchkit.MiB(used), used/int64(max(b.users, 1)))
		}
	}
}

// sharedHash is the one argon2id hash of every pre-hashed user: the
// manager checks a given hash's parameters, never its password, so one
// hash made up front costs it the same as a distinct one each.
var sharedHash = sync.OnceValue(func() string {
	h, err := password.DefaultParams.Hash([]byte(sharedPassword))
	if err != nil {
		panic(err)
	}
	return h
})

const sharedPassword = "password-of-every-pre-hashed-user"

func userName(i int) string { return fmt.Sprintf("user-%05d", i) }

func passwordOf(name string, hashed bool) string {
	if hashed {
		return sharedPassword
	}
	return "password-of-" + name
}

// objects are n Secrets and the AuthUsers that read them.
func objects(ns string, n int, hashed bool) []client.Object {
	objs := make([]client.Object, 0, 2*n)
	for i := range n {
		name := userName(i)
		sec := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		u := &v1alpha1.AuthUser{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "AuthUser"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       v1alpha1.AuthUserSpec{Username: ns + "-" + name, Scopes: []string{"read"}}}
		if hashed {
			sec.StringData = map[string]string{v1alpha1.DefaultPasswordHashKey: sharedHash()}
			u.Spec.PasswordHashSecretRef = &v1alpha1.PasswordHashSecretRef{Name: name}
		} else {
			sec.StringData = map[string]string{v1alpha1.DefaultPasswordKey: passwordOf(name, false)}
			u.Spec.PasswordSecretRef = &v1alpha1.PasswordSecretRef{Name: name}
		}
		objs = append(objs, sec, u)
	}
	return objs
}

// parallelHashRate is the hashes a second of cores hashes at once (the
// manager's pool), the median of rounds: the cores share memory bandwidth
// and caches, which cores ÷ one hash leaves out.
func parallelHashRate(cores, rounds int) float64 {
	d := make([]time.Duration, rounds)
	for i := range d {
		start := time.Now()
		var wg sync.WaitGroup
		for range cores {
			wg.Go(func() {
				if _, err := password.DefaultParams.Hash([]byte("benchmark password")); err != nil {
					panic(err)
				}
			})
		}
		wg.Wait()
		d[i] = time.Since(start)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(cores) / d[rounds/2].Seconds()
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
