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

// Package servingcert is the token server's TLS configuration: a
// certificate and key read from files and re-read when they change, as they
// do when cert-manager or the kubelet rotates a mounted Secret.
//
// The files are watched by controller-runtime's certwatcher: fsnotify on
// each file (through its symlink, so a Secret volume's ..data swap is seen
// when the kubelet removes the old directory) and a read every 10 s besides.
// A pair that does not load (a key that does not match, a file half
// written) is logged by certwatcher and the previous certificate keeps
// serving.
package servingcert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// pollInterval is how often the files are re-read besides fsnotify's
// events: certwatcher's default. It also covers a change made before the
// watch is set up, which happens in the background.
var pollInterval = 10 * time.Second

// Config reads the pair at certFile and keyFile and returns a server TLS
// configuration that presents it, TLS 1.2 at least, re-reading the files
// until ctx ends. Each certificate loaded is logged (subject, names,
// serial, expiry).
func Config(ctx context.Context, certFile, keyFile string, log *slog.Logger) (*tls.Config, error) {
	w, err := certwatcher.New(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	w = w.WithWatchInterval(pollInterval)
	// Called at once for the certificate just read, then on each change.
	w.RegisterCallback(func(c tls.Certificate) { logCertificate(log, c) })
	go func() {
		if err := w.Start(ctx); err != nil {
			log.Error("TLS certificate files are no longer watched; the current certificate keeps serving", "error", err)
		}
	}()
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: w.GetCertificate}, nil
}

func logCertificate(log *slog.Logger, c tls.Certificate) {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return // tls.X509KeyPair parsed it already
		}
	}
	attrs := []any{"subject", leaf.Subject.String(), "dnsNames", leaf.DNSNames, "issuer", leaf.Issuer.String(),
		"serial", leaf.SerialNumber.Text(16), "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339)}
	if time.Now().After(leaf.NotAfter) {
		log.Warn("TLS certificate loaded, and it has expired", attrs...)
		return
	}
	log.Info("TLS certificate loaded", attrs...)
}
