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
	"fmt"
	"os/exec"
	"strconv"

	"github.com/authstack/authstack/internal/testing/authtest"
)

// process is one redis-server run.
type process struct {
	cmd     *exec.Cmd
	out     *authtest.SyncBuffer
	done    chan struct{} // closed once the process has exited
	waitErr error         // valid after done is closed
}

// startProcess runs redis-server in the foreground on 127.0.0.1:port with
// persistence off, logging to a buffer.
func startProcess(bin, dir string, port int) (*process, error) {
	return run(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	)
}

// run starts bin with args, logging to a buffer.
func run(bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	p := &process{cmd: cmd, out: &authtest.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// kill stops the process at once and waits for it to exit.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// output returns what the process has logged so far.
func (p *process) output() string { return p.out.String() }
