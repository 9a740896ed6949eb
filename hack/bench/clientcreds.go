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

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// Clients of the client_credentials phases: "svc-NNN" authenticate with
// benchSecret (HTTP Basic), "keyed-NNN" with a private_key_jwt assertion
// signed by the one ES256 key their JWKS lists. The load cycles through
// them as the /token load does through users, so that concurrent requests
// are for different clients and no client nears the server's per-client
// rate limit (6,000 a minute by default).
const (
	secretClients = "svc"
	keyedClients  = "keyed"
	ccClients     = 64
	benchSecret   = "bench-client-secret-0123456789abcdef"
	ccScope       = "read"
)

// assertionLifetime is the exp of the load generator's assertions.
const assertionLifetime = time.Minute

// putClients writes ccClients clients of each kind, allowed only the
// client_credentials grant, through the Redis store: PutClient also
// writes each client's state (its NotBefore) to the revocation feed, which
// the server's mirror checks before it issues a client's token.
func putClients(ctx context.Context, redisURL string, key *signer.Key) error {
	jwks, err := clientJWKS(key)
	if err != nil {
		return err
	}
	st, err := redisstore.New(ctx, redisstore.Options{URL: redisURL})
	if err != nil {
		return err
	}
	defer st.Close()
	notBefore := time.Now().Add(-time.Minute).Truncate(time.Second)
	for i := range ccClients {
		for _, c := range []store.Client{
			{ID: benchUser(secretClients, i), SecretHash: store.HashClientSecret(benchSecret)},
			{ID: benchUser(keyedClients, i), JWKS: jwks},
		} {
			c.GrantTypes, c.Scopes, c.NotBefore = []string{"client_credentials"}, []string{"read", "write"}, notBefore
			c.Source = "bench/" + c.ID
			if err := st.PutClient(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// clientJWKS is the JWK Set of key's public half, as a client registers it.
func clientJWKS(key *signer.Key) (string, error) {
	ks, err := signer.NewKeySet(key)
	if err != nil {
		return "", err
	}
	return string(ks.JWKS()), nil
}

// ccForm is the body of every client_credentials request but the
// client's credential.
func ccForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {ccScope}}
}

// ccRequest posts form to /token, with authorization if not empty.
func ccRequest(ctx context.Context, base string, form url.Values, authorization string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req, nil
}

// okClientToken reports whether a 200 body is a client's own token.
func okClientToken(body []byte) bool {
	return bytes.Contains(body, []byte(`"access_token":"`)) && !bytes.Contains(body, []byte(`"refresh_token"`))
}

// secretTarget posts the grant with HTTP Basic (RFC 6749 §2.3.1: the
// form-encoded ID and secret).
func secretTarget(base string, workers int) target {
	auth := make([]string, ccClients)
	for i := range auth {
		pair := url.QueryEscape(benchUser(secretClients, i)) + ":" + url.QueryEscape(benchSecret)
		auth[i] = "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
	}
	return target{
		build: func(ctx context.Context, worker, seq int) (*http.Request, error) {
			return ccRequest(ctx, base, ccForm(), auth[(worker+seq*workers)%ccClients])
		},
		ok: okClientToken,
	}
}

// assertion signs a fresh client assertion (RFC 7523 §3) of client id for
// the token endpoint of issuer.
func assertion(key *signer.Key, id, issuer string) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer: id, Subject: id, Audience: jwt.ClaimStrings{issuer + "/token"}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(assertionLifetime)),
	})
	tok.Header["kid"] = key.ID
	return tok.SignedString(key.Private)
}

// keyedTarget posts the grant with a new private_key_jwt assertion per
// request, signed here: the signature is the client's cost, not the
// server's.
func keyedTarget(base, issuer string, key *signer.Key, workers int) target {
	return target{
		build: func(ctx context.Context, worker, seq int) (*http.Request, error) {
			id := benchUser(keyedClients, (worker+seq*workers)%ccClients)
			a, err := assertion(key, id, issuer)
			if err != nil {
				return nil, err
			}
			form := ccForm()
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", a)
			return ccRequest(ctx, base, form, "")
		},
		ok: okClientToken,
	}
}

// ccPhase is the result of part 5.
type ccPhase struct {
	// Sign is one ES256 signature of the claims of a token the server
	// issued, with the server's key set (its signing path); Verify is one
	// ES256 verification of a client assertion with the client's public
	// key. Both in process, as in 3.
	Sign, Verify   cpuCost
	Token          int // length of a client's access token
	Secret, Keyed  phase
	Cmdline        string
	ClientsPerKind int
}

// reference is the in-process CPU the ratios of part 5 divide by: one
// ES256 signature plus one ES256 verification.
func (c ccPhase) reference() time.Duration { return c.Sign.Process + c.Verify.Process }

func measureClientCredentials(ctx context.Context, o options, binary string, rds *benchkit.Redis, kd keyDir, key *signer.Key, microTime time.Duration) (ccPhase, error) {
	c := ccPhase{ClientsPerKind: ccClients}
	srv, err := startAuthServer(ctx, binary, rds.URL, kd.dir)
	if err != nil {
		return c, err
	}
	defer srv.Stop(stopGrace)
	c.Cmdline = srv.cmdline
	client := newHTTPClient(o.clients)
	defer client.CloseIdleConnections()
	secret, keyed := secretTarget(srv.base, o.clients), keyedTarget(srv.base, srv.issuer, key, o.clients)
	tok, err := firstToken(ctx, client, secret)
	if err != nil {
		return c, fmt.Errorf("client_secret: %w", err)
	}
	if _, err := firstToken(ctx, client, keyed); err != nil {
		return c, fmt.Errorf("private_key_jwt: %w", err)
	}
	c.Token = len(tok)
	if err := c.measureCrypto(ctx, tok, kd.dir, key, srv.issuer, microTime); err != nil {
		return c, err
	}
	for _, x := range []struct {
		name string
		tgt  target
		out  *phase
	}{{"client_credentials, client_secret_basic", secret, &c.Secret}, {"client_credentials, private_key_jwt", keyed, &c.Keyed}} {
		p, err := measure(ctx, o, srv, rds, x.name, 1, nil, func(d time.Duration) *loadResult {
			return closedLoop(ctx, client, o.clients, d, o.maxRequests, x.tgt)
		})
		if err == nil && p.Load.Other() > 0 {
			err = fmt.Errorf("%s: every response must be 200: %s; first error: %s", x.name, p.Load.statusSummary(), p.Load.FirstError)
		}
		if err != nil {
			return c, err
		}
		p.Clients = o.clients
		*x.out = p
	}
	return c, nil
}

// firstToken sends one request of t and returns the access token.
func firstToken(ctx context.Context, client *http.Client, t target) (string, error) {
	req, err := t.build(ctx, 0, 0)
	if err != nil {
		return "", err
	}
	status, body, err := do(client, req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK || !t.ok(body) {
		return "", fmt.Errorf("POST /token: %d %.300s", status, body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		return "", fmt.Errorf("POST /token: no access_token in %.300s", body)
	}
	return resp.AccessToken, nil
}

// measureCrypto measures the two signature operations a private_key_jwt
// token costs the server: signing the claims of tok (a token it issued)
// with its key set, and verifying one assertion.
func (c *ccPhase) measureCrypto(ctx context.Context, tok, keysDir string, key *signer.Key, issuer string, d time.Duration) error {
	ks, err := signer.LoadDir(keysDir)
	if err != nil {
		return err
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return fmt.Errorf("the server's client token: %w", err)
	}
	benchkit.Progress("client_credentials: in-process ES256 sign and verify, %v each", d)
	if c.Sign, err = measureCPU(ctx, 100, 1_000_000, d, func() error {
		_, err := ks.Sign(claims)
		return err
	}); err != nil {
		return fmt.Errorf("ES256 sign: %w", err)
	}
	a, err := assertion(key, benchUser(keyedClients, 0), issuer)
	if err != nil {
		return err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{signer.AlgES256}))
	var keyFunc jwt.Keyfunc = func(*jwt.Token) (any, error) { return key.Public, nil }
	if c.Verify, err = measureCPU(ctx, 100, 1_000_000, d, func() error {
		var claims jwt.RegisteredClaims
		_, err := parser.ParseWithClaims(a, &claims, keyFunc)
		return err
	}); err != nil {
		return fmt.Errorf("ES256 verify: %w", err)
	}
	return nil
}

// writeClientCredentials writes part 5; floor is the HTTP floor of 3 (GET
// /.well-known/jwks.json), 0 if it was not measured.
func (r *report) writeClientCredentials(p func(string, ...any), floor time.Duration) {
	c := r.ClientCreds
	ref := c.reference()
	cores := float64(r.Machine.GOMAXPROCS)
	p("### 5. POST /token, grant_type=client_credentials (ES256)")
	p("")
	p("A fresh server (ES256 key), %d clients of each kind written through the Redis store (PutClient: the record and", c.ClientsPerKind)
	p("the client's state in the revocation feed, which the mirror checks), grant types [client_credentials], scope `%s`;", ccScope)
	p("%d closed-loop keep-alive clients cycle through them. *client_secret_basic*: HTTP Basic with a secret (the", c.Secret.Clients)
	p("server: the client GET, a SHA-256, the throttle, the rate-limit count, one ES256 signature). *private_key_jwt*:")
	p("a new ES256 assertion per request, signed by the load generator (its CPU, not the server's); the server pays one")
	p("ES256 verify of it, one SET NX of its jti, and the signature. The reference is one ES256 sign (the claims of")
	p("a token the server issued, with its key set: %s) plus one ES256 verify (an assertion: %s), in process: %s.",
		benchkit.MS(c.Sign.Process), benchkit.MS(c.Verify.Process), benchkit.MS(ref))
	p("")
	p("| Client authentication | tokens/s | server CPU/token | ÷ (sign + verify) | ÷ HTTP floor (%s) | Redis CPU/token | p50 / p99 | server / Redis / load generator | responses |", benchkit.MS(floor))
	p("|---|---|---|---|---|---|---|---|---|")
	for _, x := range []struct {
		name string
		ph   phase
	}{{"client_secret_basic", c.Secret}, {"private_key_jwt", c.Keyed}} {
		ok := x.ph.Load.OK()
		cpu := perOp(x.ph.CPU.Server, ok)
		lat := x.ph.Load.Latency[http.StatusOK]
		w := x.ph.CPU.Wall.Seconds() * cores
		p("| %s | %.0f | %s | **%.2f** | %.2f | %s | %s / %s | %s / %s / %s | %s |", x.name, rate(ok, x.ph.Load.Elapsed), benchkit.MS(cpu),
			ratio(cpu, ref), ratio(cpu, floor), benchkit.MS(perOp(x.ph.CPU.Redis, ok)),
			benchkit.MS(percentile(lat, 50)), benchkit.MS(percentile(lat, 99)),
			pct(x.ph.CPU.Server.Seconds()/w), pct(x.ph.CPU.Redis.Seconds()/w), pct(x.ph.CPU.Bench.Seconds()/w), x.ph.Load.statusSummary())
	}
	p("")
	p("Access token: %d bytes. Server error log lines: %d. The difference of the two rows is what the assertion", c.Token, c.Secret.ServerLog+c.Keyed.ServerLog)
	p("costs the server over a secret (the verify, the jti's SET NX, a larger request), to compare with one verify.")
	p("")
}
