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

// Command loadgen is test/cluster's client, run in a pod of its own image
// (make image-archives: docker.io/local/loadgen:dev) so that its requests
// take the path a workload's take: the pod's DNS, the Service's ClusterIP,
// kube-proxy's rules.
//
//	loadgen token  gets one token with the password grant and checks it at
//	               /verify, then prints the user and exits (0 on success)
//	loadgen load   calls /token (at -token-rate) and /verify from -workers
//	               loops until told
//	               to stop, and serves its counts on -listen:
//	               POST /phase returns the counts since the last /phase and
//	               starts new ones; POST /stop stops and returns the last.
//
// The user, password, client and client secret come from the environment
// (USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET), which the test fills from
// Secrets. A connection refused before anything was sent (a Service whose
// endpoint just went away) is retried and counted apart: nothing was in
// flight. Everything else that is not a 200 is a failed request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen token|load [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	base := fs.String("url", "", "the token server's base URL (the Service's)")
	audience := fs.String("audience", "", "the audience /verify requires")
	workers := fs.Int("workers", 4, "load: concurrent loops")
	tokenRate := fs.Float64("token-rate", 4, "load: /token requests per second, all workers together (within the per-user login limit); the rest are /verify")
	listen := fs.String("listen", ":8080", "load: the address of /phase and /stop")
	limit := fs.Duration("max", 10*time.Minute, "load: stop after this long even if never told")
	_ = fs.Parse(os.Args[2:])
	c := &client{
		base: strings.TrimSuffix(*base, "/"), audience: *audience,
		user: os.Getenv("USERNAME"), password: os.Getenv("PASSWORD"),
		clientID: os.Getenv("CLIENT_ID"), clientSecret: os.Getenv("CLIENT_SECRET"),
		http: &http.Client{Timeout: 10 * time.Second, Transport: transport(*workers)},
	}
	switch os.Args[1] {
	case "token":
		if err := c.once(); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen token:", err)
			os.Exit(1)
		}
	case "load":
		if err := load(c, *workers, *tokenRate, *listen, *limit); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen load:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

// dialError marks a connection that was never made: no request was sent.
type dialError struct{ error }

func (e dialError) Unwrap() error { return e.error }

func transport(workers int) *http.Transport {
	d := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, dialError{err}
			}
			return c, nil
		},
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     90 * time.Second,
	}
}

type client struct {
	base, audience                         string
	user, password, clientID, clientSecret string
	http                                   *http.Client
}

// redialFor is how long a request whose connection could not be made is
// tried again, 50 ms apart, before it counts as failed.
const redialFor = 10 * time.Second

// do sends the request built by req, again when its connection could not
// be made, and returns the response body of a 200.
func (c *client) do(req func() (*http.Request, error), redials *int) (http.Header, []byte, error) {
	start := time.Now()
	for {
		r, err := req()
		if err != nil {
			return nil, nil, err
		}
		resp, err := c.http.Do(r)
		if err != nil {
			var de dialError
			if errors.As(err, &de) && time.Since(start) < redialFor {
				*redials++
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("%s %s: %d %s", r.Method, r.URL.Path, resp.StatusCode, strings.TrimSpace(string(body)))
		}
		return resp.Header, body, nil
	}
}

func (c *client) token(redials *int) (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {c.user}, "password": {c.password}}.Encode()
	_, body, err := c.do(func() (*http.Request, error) {
		r, err := http.NewRequest(http.MethodPost, c.base+"/token", strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.clientSecret))
		return r, nil
	}, redials)
	if err != nil {
		return "", err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("POST /token: a 200 without an access token (%v)", err)
	}
	return tr.AccessToken, nil
}

// verify asks /verify about tok and returns the user it names.
func (c *client) verify(tok string, redials *int) (string, error) {
	h, _, err := c.do(func() (*http.Request, error) {
		r, err := http.NewRequest(http.MethodGet, c.base+"/verify?"+url.Values{"audience": {c.audience}}.Encode(), nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		return r, nil
	}, redials)
	if err != nil {
		return "", err
	}
	return h.Get("X-Auth-Request-User"), nil
}

// once is loadgen token. DNS and the Service may trail the pod's start by
// a moment: connection errors are retried by do.
func (c *client) once() error {
	var redials int
	tok, err := c.token(&redials)
	if err != nil {
		return err
	}
	user, err := c.verify(tok, &redials)
	if err != nil {
		return err
	}
	if user != c.user {
		return fmt.Errorf("/verify names %q, want %q", user, c.user)
	}
	fmt.Printf("{\"user\":%q,\"redials\":%d}\n", user, redials)
	return nil
}

// Counts are what load reports for a phase.
type Counts struct {
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"` // answered 200
	Failed   int     `json:"failed"`
	// Redials are connections refused before a request was sent, then
	// retried.
	Redials int `json:"redials"`
	// Failures are the first failures, each with its time (RFC 3339, ms).
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is one failed request.
type Failure struct {
	At string `json:"at"`
	// Transport is true when no HTTP answer came (a connection reset, EOF
	// or timeout), false for an answer that was not a 200.
	Transport bool   `json:"transport"`
	Error     string `json:"error"`
}

const maxFailures = 50

type counter struct {
	mu    sync.Mutex
	start time.Time
	c     Counts
}

func (k *counter) add(err error, redials int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.c.Redials += redials
	if err == nil {
		k.c.Requests++
		return
	}
	k.c.Failed++
	if len(k.c.Failures) < maxFailures {
		var ue *url.Error
		k.c.Failures = append(k.c.Failures, Failure{
			At: time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"), Transport: errors.As(err, &ue), Error: err.Error(),
		})
	}
}

// phase returns the counts since the last phase and starts new ones.
func (k *counter) phase() Counts {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.c
	c.Seconds = time.Since(k.start).Seconds()
	k.c, k.start = Counts{}, time.Now()
	return c
}

func load(c *client, workers int, tokenRate float64, listen string, limit time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	k := &counter{start: time.Now()}
	logins := time.NewTicker(time.Duration(float64(time.Second) / tokenRate))
	defer logins.Stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tok string
			for ctx.Err() == nil {
				var (
					redials int
					err     error
					login   = tok == ""
				)
				select {
				case <-logins.C:
					login = true
				default:
				}
				if login {
					var t string
					if t, err = c.token(&redials); err == nil {
						tok = t
					}
				} else {
					_, err = c.verify(tok, &redials)
				}
				if ctx.Err() != nil && err != nil {
					return // cut short by the stop, not a failure
				}
				k.add(err, redials)
			}
		}()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /phase", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(k.phase())
	})
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, _ *http.Request) {
		cancel()
		wg.Wait()
		_ = json.NewEncoder(w).Encode(k.phase())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		wg.Wait()
		// A moment for the /stop answer to be written.
		time.Sleep(time.Second)
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
