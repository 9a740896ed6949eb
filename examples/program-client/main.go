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

// Command program-client is a program that calls a service with its own
// authstack access token, got with the pod's projected ServiceAccount
// token and no Secret (docs/programs.md): a template for jobs and
// services in the cluster.
//
// Usage:
//
//	program-client --token-url https://auth.example.com/token --client-id orders \
//	    --url http://inventory.shop.svc/api/whoami
//
// It fetches a token by the client_credentials grant, presenting the token
// file (--token-file, re-read for every token request) as its client
// assertion, calls --url --count times, --interval apart, with the token,
// and prints each response's status and body. It exits non-zero when a
// call fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/authstack/authstack/resourceserver/tokensource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "program-client:", err)
		os.Exit(1)
	}
}

// run parses args and makes the calls.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("program-client", flag.ContinueOnError)
	tokenURL := fs.String("token-url", "", "the token server's token endpoint (required)")
	clientID := fs.String("client-id", "", "the AuthClient's client ID (required)")
	tokenFile := fs.String("token-file", tokensource.DefaultServiceAccountTokenPath, "the projected ServiceAccount token")
	scope := fs.String("scope", "", "space-separated scopes to ask for (default: the client's)")
	target := fs.String("url", "", "the URL to call (required)")
	count := fs.Int("count", 1, "how many calls to make (1 to 1000)")
	interval := fs.Duration("interval", time.Second, "the time between calls")
	allowHTTP := fs.Bool("allow-http", false, "allow a plain http:// --token-url beyond the loopback (an in-cluster Service without TLS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *tokenURL == "" || *clientID == "" || *target == "":
		return errors.New("--token-url, --client-id and --url are required")
	case *count < 1 || *count > 1000:
		return errors.New("--count must be 1 to 1000")
	}
	cfg := tokensource.Config{TokenURL: *tokenURL, ClientID: *clientID, Scopes: strings.Fields(*scope), AllowHTTP: *allowHTTP}
	src, err := cfg.ServiceAccountToken(ctx, *tokenFile)
	if err != nil {
		return err
	}
	client := oauth2.NewClient(ctx, src)
	client.Timeout = 10 * time.Second
	for i := range *count {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(*interval):
			}
		}
		if err := call(ctx, client, *target, out); err != nil {
			return err
		}
	}
	return nil
}

// call GETs target with the client's token and prints the answer.
func call(ctx context.Context, client *http.Client, target string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err // a refused token request is an *oauth2.RetrieveError, with its error code
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", target, resp.Status)
	}
	return nil
}
