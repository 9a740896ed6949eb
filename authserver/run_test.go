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

package authserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// On shutdown, a request already in flight completes; new connections are
// refused and Run returns without error.
func TestRunShutsDownGracefully(t *testing.T) {
	ts := newTestServer(t)
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Run(ctx, authserver.Listeners{API: api, Ops: ops}, 10*time.Second) }()

	// A request whose body is still being sent when shutdown starts.
	body, writer := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+api.Addr().String()+"/token", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	// Wait until the server is inside the handler, reading the body.
	authtest.Eventually(t, "the request to reach the handler", func() bool {
		return strings.Contains(ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String(), "authstack_http_requests_in_flight 1")
	})
	if _, err := writer.Write([]byte("grant_type=password&username=alice&")); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Shutdown closes the listeners first: wait until new dials fail.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", api.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a request was in flight", err)
	default:
	}
	if _, err := writer.Write([]byte("password=" + alicePassword)); err != nil {
		t.Fatal(err)
	}
	writer.Close()
	if r := <-res; r.err != nil || r.code != http.StatusOK {
		t.Fatalf("in-flight request: %d %v", r.code, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// During the drain delay /readyz fails while the listeners still serve, so
// load balancers stop routing before connections are refused, and every
// answer closes its connection (Connection: close), so keep-alive clients
// move to another replica after a whole answer instead of losing a
// request to Shutdown closing their idle connection.
func TestDrainFailsReadinessFirst(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.DrainDelay = 2 * time.Second }))
	api, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Run(ctx, authserver.Listeners{API: api}, time.Second) }()
	var closes bool // the last answer's Connection: close
	ready := func() int {
		resp, err := http.Get("http://" + api.Addr().String() + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		closes = resp.Close
		return resp.StatusCode
	}
	if code := ready(); code != http.StatusOK || closes {
		t.Fatalf("readyz before shutdown: %d, Connection: close %v", code, closes)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for ready() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readyz never failed while draining")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !closes {
		t.Fatal("an answer while draining kept its connection open: want Connection: close")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code := ready(); code != 0 {
		t.Fatalf("still serving after shutdown: %d", code)
	}
}
