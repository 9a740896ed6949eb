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
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this package's commands as a real process: with
// AUTHSTACK_TEST_MAIN set, the test binary is `authstack`. It stops the API
// server the status tests start (kube).
func TestMain(m *testing.M) {
	if os.Getenv("AUTHSTACK_TEST_MAIN") == "1" {
		root := NewRoot()
		root.SetArgs(os.Args[1:])
		os.Exit(execute(root))
	}
	code := m.Run()
	kube.Stop()
	os.Exit(code)
}

// The first SIGTERM starts the drain; a second one ends the process at once
// instead of waiting out the drain delay and the shutdown grace.
func TestSecondSignalEndsTheProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "dev", "-f", "../config/samples", "--addr", "127.0.0.1:0", "--metrics-addr", "",
		"--shutdown-delay", "1h", "--shutdown-grace", "1h")
	cmd.Env = append(os.Environ(), "AUTHSTACK_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(what string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("process ended before logging %q", what)
				}
				if strings.Contains(l, what) {
					return
				}
			case <-deadline:
				t.Fatalf("no %q in the log", what)
			}
		}
	}
	waitFor("Token server listening")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor("Draining")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 {
			t.Fatalf("process ended with %v, want death by the second SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a second SIGTERM did not end the draining process (it would wait out the one-hour drain)")
	}
}
