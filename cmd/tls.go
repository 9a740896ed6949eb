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
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/authstack/authstack/internal/servingcert"
)

// tlsFlags are --tls-cert-file and --tls-key-file, the names the
// Kubernetes components use, which `server` and `dev` share.
type tlsFlags struct {
	certFile, keyFile string
}

func (f *tlsFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.certFile, "tls-cert-file", "",
		"PEM certificate (chain) the API listener serves HTTPS with, re-read when it changes; the metrics listener stays HTTP (empty: plain HTTP, as behind a TLS-terminating ingress)")
	fs.StringVar(&f.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
}

// on says whether the API listener serves HTTPS.
func (f *tlsFlags) on() bool { return f.certFile != "" || f.keyFile != "" }

// scheme is the API listener's URL scheme.
func (f *tlsFlags) scheme() string {
	if f.on() {
		return "https"
	}
	return "http"
}

// config is the API listener's TLS configuration, re-reading the files
// until ctx ends; nil without the flags.
func (f *tlsFlags) config(ctx context.Context, log *slog.Logger) (*tls.Config, error) {
	if !f.on() {
		return nil, nil
	}
	if f.certFile == "" || f.keyFile == "" {
		return nil, errors.New("--tls-cert-file and --tls-key-file go together: give both, or neither for plain HTTP")
	}
	// certwatcher logs through controller-runtime's logger: into the JSON
	// log with the rest.
	ctrllog.SetLogger(logr.FromSlogHandler(atMostWarn{log.Handler()}))
	c, err := servingcert.Config(ctx, f.certFile, f.keyFile, log)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
	}
	return c, nil
}

// atMostWarn logs errors as warnings. certwatcher logs a pair that does not
// load as an error, but the previous certificate keeps serving, and a pair
// written in place fails to load once or twice on the way.
type atMostWarn struct{ slog.Handler }

func (h atMostWarn) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, min(l, slog.LevelWarn))
}

func (h atMostWarn) Handle(ctx context.Context, r slog.Record) error {
	r.Level = min(r.Level, slog.LevelWarn)
	return h.Handler.Handle(ctx, r)
}

func (h atMostWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atMostWarn{h.Handler.WithAttrs(attrs)}
}

func (h atMostWarn) WithGroup(name string) slog.Handler { return atMostWarn{h.Handler.WithGroup(name)} }
