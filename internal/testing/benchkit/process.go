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

package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/testing/authtest"
)

// ReadyTimeout bounds how long a started process gets to start answering.
const ReadyTimeout = 20 * time.Second

// Child is a process a benchmark started. Every child is registered and
// killed by KillAll, which a benchmark runs on every exit path; Pdeathsig
// kills it too should the benchmark die without cleaning up.
type Child struct {
	Name    string
	cmd     *exec.Cmd
	out     *authtest.SyncBuffer
	done    chan struct{} // closed once the process has exited
	waitErr error         // valid after done is closed
}

var children struct {
	sync.Mutex
	list []*Child
}

// Command describes a child to start.
type Command struct {
	Name string   // for messages
	Path string   // the binary
	Args []string // its arguments
	// Echo, if set, also receives the child's output as it is written.
	Echo io.Writer
}

// Start runs bin with args; see [Command.Start].
func Start(name, bin string, args ...string) (*Child, error) {
	return Command{Name: name, Path: bin, Args: args}.Start()
}

// Start runs the command, its output (stdout and stderr) collected in a
// bounded buffer, with the environment less AUTHSTACK_* variables (they
// would set authstack's flags behind the benchmark's back).
func (c Command) Start() (*Child, error) {
	cmd := exec.Command(c.Path, c.Args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHSTACK_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	ch := &Child{Name: c.Name, cmd: cmd, out: &authtest.SyncBuffer{Max: 4 << 20}, done: make(chan struct{})}
	var out io.Writer = ch.out
	if c.Echo != nil {
		out = io.MultiWriter(ch.out, c.Echo)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	children.Lock()
	defer children.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	children.list = append(children.list, ch)
	go func() {
		ch.waitErr = cmd.Wait()
		close(ch.done)
	}()
	return ch, nil
}

// PID is the process ID.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Err is how the process exited (exec.Cmd.Wait's error); nil while it runs.
func (c *Child) Err() error {
	if !c.Exited() {
		return nil
	}
	return c.waitErr
}

// Output returns what the process has written so far (the first 4 MiB).
func (c *Child) Output() string { return c.out.String() }

// Stop asks the process to exit with SIGTERM, kills it after grace, and
// waits for it.
func (c *Child) Stop(grace time.Duration) {
	if c.Exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// KillAll kills every child still running and waits for it.
func KillAll() {
	children.Lock()
	list := children.list
	children.list = nil
	children.Unlock()
	for _, c := range list {
		if !c.Exited() {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
}

// Redis is a throwaway redis-server on 127.0.0.1, without persistence.
type Redis struct {
	*Child
	Addr   string          // host:port
	URL    string          // redis://Addr/0
	Client *goredis.Client // closed by Stop
}

// StartRedis runs bin (redis-server) on a free port with dir as its working
// directory and waits until it answers PING, retrying on another port if
// the first was taken meanwhile.
func StartRedis(ctx context.Context, bin, dir string) (*Redis, error) {
	var errs []error
	for range 3 {
		port, err := authtest.FreePort()
		if err != nil {
			return nil, err
		}
		c, err := Start("redis-server", bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--logfile", "", "--loglevel", "warning")
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		r := &Redis{Child: c, Addr: addr, URL: "redis://" + addr + "/0", Client: goredis.NewClient(&goredis.Options{Addr: addr})}
		if err := r.waitReady(ctx); err != nil {
			r.Stop()
			errs = append(errs, err)
			continue
		}
		return r, nil
	}
	return nil, errors.Join(errs...)
}

func (r *Redis) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := r.Client.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if r.Exited() {
			return fmt.Errorf("redis-server exited: %v\n%s", r.Err(), r.Output())
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("redis-server not ready: %w", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop closes the client and stops the server (nothing of its data is
// kept, so it gets no time to save).
func (r *Redis) Stop() {
	_ = r.Client.Close()
	r.Child.Stop(200 * time.Millisecond)
}

// UsedMemory is the server's used_memory (INFO memory), in bytes.
func (r *Redis) UsedMemory(ctx context.Context) (int64, error) {
	info, err := r.Client.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("INFO memory: no used_memory")
}
