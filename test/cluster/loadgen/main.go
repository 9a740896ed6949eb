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
//	loadgen guess  guesses the user's password -n times, -rate a second,
//	               with the password grant, and prints how each guess was
//	               answered: {"guesses":N,"answers":{"400 invalid_grant":…}}
//	loadgen load   calls /token (at -token-rate) and /verify from -workers
//	               loops, -rate requests a second, until told to stop, and serves its counts on
//	               -listen: POST /phase returns the counts since the last
//	               /phase (load.Counts) and starts new ones; POST /stop
//	               stops and returns the last.
//
// The user, password, client and client secret come from the environment
// (USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET), which the test fills from
// Secrets. Under load, a connection refused before anything was sent (a
// Service whose endpoint just went away) is made again and counted apart:
// nothing was in flight. A request net/http sends again by itself after
// its connection broke is counted as replayed. Everything else that is
// not a 200 is a failed request.
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
	"net/http/httptrace"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	ratelimit "golang.org/x/time/rate"

	"github.com/authstack/authstack/test/cluster/load"
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
	rate := fs.Float64("rate", 300, "load: requests per second, all workers together (0: as fast as they go)")
	tokenRate := fs.Float64("token-rate", 4, "load: /token requests per second, all workers together (within the per-user login limit); the rest are /verify")
	listen := fs.String("listen", ":8080", "load: the address of /phase and /stop")
	limit := fs.Duration("max", 10*time.Minute, "load: stop after this long even if never told")
	guesses := fs.Int("n", 40, "guess: how many wrong passwords to try")
	_ = fs.Parse(os.Args[2:])
	c := &client{
		base: strings.TrimSuffix(*base, "/"), audience: *audience,
		user: os.Getenv("USERNAME"), password: os.Getenv("PASSWORD"),
		clientID: os.Getenv("CLIENT_ID"), clientSecret: os.Getenv("CLIENT_SECRET"),
		http: &http.Client{Timeout: 10 * time.Second, Transport: transport(*workers)},
	}
	switch os.Args[1] {
	case "token":
		// The pod's DNS and the Service may trail its start: any
		// connection error is tried again.
		c.redialable = func(err error) bool { return errors.As(err, new(dialError)) }
		if err := c.once(); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen token:", err)
			os.Exit(1)
		}
	case "guess":
		c.redialable = func(err error) bool { return errors.As(err, new(dialError)) }
		if err := c.guess(*guesses, *rate); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen guess:", err)
			os.Exit(1)
		}
	case "load":
		c.redialable = func(err error) bool { return errors.As(err, new(dialError)) && errors.Is(err, syscall.ECONNREFUSED) }
		if err := run(c, *workers, *rate, *tokenRate, *listen, *limit); err != nil {
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

// statusError is an HTTP answer that was not a 200.
type statusError struct{ error }

func transport(workers int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
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
	// redialable says which errors mean the connection was never made,
	// so the request is made again.
	redialable func(error) bool
}

// redialFor is how long a request whose connection could not be made is
// tried again, 50 ms apart, before it counts as failed.
const redialFor = 10 * time.Second

// attempt is what became of one request besides its answer.
type attempt struct {
	redials    int
	redialWait time.Duration
	replayed   bool
}

// answer is an HTTP response read whole, with the request it answers.
type answer struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

// send sends the request built by req, again when its connection could
// not be made, and returns the answer whatever its status.
func (c *client) send(ctx context.Context, req func(context.Context) (*http.Request, error), a *attempt) (answer, error) {
	start := time.Now()
	for {
		conns := 0
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { conns++ }}
		r, err := req(httptrace.WithClientTrace(ctx, trace))
		if err != nil {
			return answer{}, err
		}
		resp, err := c.http.Do(r)
		if conns > 1 {
			a.replayed = true
		}
		if err != nil {
			if c.redialable(err) && ctx.Err() == nil && time.Since(start) < redialFor {
				a.redials++
				time.Sleep(50 * time.Millisecond)
				a.redialWait = time.Since(start)
				continue
			}
			return answer{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return answer{}, err
		}
		return answer{method: r.Method, path: r.URL.Path, status: resp.StatusCode, header: resp.Header, body: body}, nil
	}
}

// do is send, and an error for an answer that is not a 200.
func (c *client) do(ctx context.Context, req func(context.Context) (*http.Request, error), a *attempt) (http.Header, []byte, error) {
	ans, err := c.send(ctx, req, a)
	if err != nil {
		return nil, nil, err
	}
	if ans.status != http.StatusOK {
		return nil, nil, statusError{fmt.Errorf("%s %s: %d %s", ans.method, ans.path, ans.status, strings.TrimSpace(string(ans.body)))}
	}
	return ans.header, ans.body, nil
}

// tokenRequest is a password grant for the user with password, the client
// authenticated with its secret (client_secret_basic).
func (c *client) tokenRequest(ctx context.Context, password string) (*http.Request, error) {
	form := url.Values{"grant_type": {"password"}, "username": {c.user}, "password": {password}}.Encode()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/token", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.clientSecret))
	return r, nil
}

func (c *client) token(ctx context.Context, a *attempt) (string, error) {
	_, body, err := c.do(ctx, func(ctx context.Context) (*http.Request, error) {
		return c.tokenRequest(ctx, c.password)
	}, a)
	if err != nil {
		return "", err
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", statusError{fmt.Errorf("POST /token: a 200 without an access token (%v)", err)}
	}
	return tr.AccessToken, nil
}

// verify asks /verify about tok and returns the user it names.
func (c *client) verify(ctx context.Context, tok string, a *attempt) (string, error) {
	h, _, err := c.do(ctx, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/verify?"+url.Values{"audience": {c.audience}}.Encode(), nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		return r, nil
	}, a)
	if err != nil {
		return "", err
	}
	return h.Get("X-Auth-Request-User"), nil
}

// once is loadgen token.
func (c *client) once() error {
	ctx := context.Background()
	var a attempt
	tok, err := c.token(ctx, &a)
	if err != nil {
		return err
	}
	user, err := c.verify(ctx, tok, &a)
	if err != nil {
		return err
	}
	if user != c.user {
		return fmt.Errorf("/verify names %q, want %q", user, c.user)
	}
	fmt.Printf("{\"user\":%q,\"redials\":%d}\n", user, a.redials)
	return nil
}

// guess is loadgen guess: n password grants for the user with wrong
// passwords, rate a second, each answer counted by its status and OAuth
// error code. Only a guess that got no answer is an error.
func (c *client) guess(n int, rate float64) error {
	ctx := context.Background()
	pace := ratelimit.NewLimiter(ratelimit.Limit(rate), 1)
	answers := map[string]int{}
	for i := range n {
		if err := pace.Wait(ctx); err != nil {
			return err
		}
		password := fmt.Sprintf("guess-%d-%s", i, c.user)
		ans, err := c.send(ctx, func(ctx context.Context) (*http.Request, error) { return c.tokenRequest(ctx, password) }, &attempt{})
		if err != nil {
			return fmt.Errorf("guess %d: %w", i, err)
		}
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(ans.body, &body); err != nil {
			return fmt.Errorf("guess %d: %d with a body that is not JSON: %w", i, ans.status, err)
		}
		answers[fmt.Sprintf("%d %s", ans.status, body.Error)]++
	}
	out, err := json.Marshal(map[string]any{"guesses": n, "answers": answers})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// maxFailures is how many failures a phase lists.
const maxFailures = 50

type counter struct {
	mu    sync.Mutex
	start time.Time
	c     load.Counts
}

func (k *counter) add(err error, a attempt) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.c.Redials += a.redials
	k.c.RedialMillis = max(k.c.RedialMillis, a.redialWait.Milliseconds())
	if a.replayed {
		k.c.Replayed++
	}
	if err == nil {
		k.c.Requests++
		return
	}
	k.c.Failed++
	if len(k.c.Failures) < maxFailures {
		k.c.Failures = append(k.c.Failures, load.Failure{
			At: time.Now().UTC().Format(load.TimeFormat), Transport: !errors.As(err, new(statusError)), Error: err.Error(),
		})
	}
}

// phase returns the counts since the last phase and starts new ones.
func (k *counter) phase() load.Counts {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.c
	c.Seconds = time.Since(k.start).Seconds()
	k.c, k.start = load.Counts{}, time.Now()
	return c
}

// run is loadgen load.
func run(c *client, workers int, rate, tokenRate float64, listen string, limit time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	k := &counter{start: time.Now()}
	logins := time.NewTicker(time.Duration(float64(time.Second) / tokenRate))
	defer logins.Stop()
	var wg sync.WaitGroup
	pace := ratelimit.NewLimiter(ratelimit.Inf, 1)
	if rate > 0 {
		pace = ratelimit.NewLimiter(ratelimit.Limit(rate), workers)
	}
	for range workers {
		wg.Go(func() { work(ctx, c, k, pace, logins.C) })
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
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	shut := make(chan struct{})
	go func() {
		defer close(shut)
		<-ctx.Done()
		wg.Wait()
		// The /stop answer, if one is being written, is let finish.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-shut // ListenAndServe returns as Shutdown begins
	return nil
}

// work is one worker: at the pace's rate, a /token when a login tick is
// due (or it has no token yet), a /verify of its token otherwise, until
// ctx ends.
func work(ctx context.Context, c *client, k *counter, pace *ratelimit.Limiter, logins <-chan time.Time) {
	var tok string
	for pace.Wait(ctx) == nil {
		var (
			a     attempt
			err   error
			login = tok == ""
		)
		select {
		case <-logins:
			login = true
		default:
		}
		if login {
			var t string
			if t, err = c.token(ctx, &a); err == nil {
				tok = t
			}
		} else {
			_, err = c.verify(ctx, tok, &a)
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return // cut short by the stop or -max, not a failure
		}
		k.add(err, a)
	}
}
