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

package kubecredential

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// requestTimeout bounds each request to the server, so that kubectl is
// not left waiting on a server that accepted the connection and hung.
const requestTimeout = 30 * time.Second

// CheckIssuer refuses an issuer URL that is not https (http only with
// allowHTTP, for a dev server), or that carries a query or fragment (OIDC
// Discovery §3).
func CheckIssuer(issuer string, allowHTTP bool) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--server %q is not an absolute URL", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--server %q: an issuer URL has no query or fragment", issuer)
	}
	return checkScheme(u, allowHTTP)
}

func checkScheme(u *url.URL, allowHTTP bool) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowHTTP:
		return nil
	case u.Scheme == "http":
		return schemeError(u.Redacted() + " is plain http: the password and tokens would cross the network readable; use https, or --insecure-allow-http for a local dev server")
	}
	return schemeError(u.Redacted() + ": the scheme must be https")
}

// schemeError refuses a URL for its scheme.
type schemeError string

func (e schemeError) Error() string { return string(e) }

// NewHTTPClient returns the client of every request to the server: TLS
// verified against the system roots plus the PEM certificates of caFile
// (when given), and no plain http request unless allowHTTP (which also
// covers endpoints a discovery document names).
func NewHTTPClient(caFile string, allowHTTP bool) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := certPool(caFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{
		Transport: schemeCheck{next: tr, allowHTTP: allowHTTP},
		Timeout:   requestTimeout,
		// A redirect would take the password grant's form elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// certPool is the system roots with caFile's certificates added.
func certPool(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--certificate-authority: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--certificate-authority %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// schemeCheck refuses requests that are not https, unless allowHTTP.
type schemeCheck struct {
	next      http.RoundTripper
	allowHTTP bool
}

func (s schemeCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := checkScheme(r.URL, s.allowHTTP); err != nil {
		return nil, err
	}
	return s.next.RoundTrip(r)
}

// explainTransport says in words why a request to the server failed
// before any answer: a certificate not trusted, or a server not reached.
func explainTransport(issuer string, err error) error {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var scheme schemeError
	switch {
	case errors.As(err, &scheme):
		return scheme
	case errors.As(err, &hostname):
		return fmt.Errorf("the server's certificate is not valid for %s: %w", issuer, err)
	case errors.As(err, &unknown), errors.As(err, &verify), errors.As(err, &invalid):
		return fmt.Errorf("the server's certificate is not trusted; give the CA that signed it with --certificate-authority: %w", err)
	}
	return fmt.Errorf("cannot reach the server %s: %w", issuer, err)
}
