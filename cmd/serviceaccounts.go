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
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/serviceaccount"
)

// serviceAccountFlags are the flags of `authstack server` that let
// AuthClients authenticate with Kubernetes ServiceAccount tokens, which it
// reviews through the API server.
type serviceAccountFlags struct {
	enabled    bool
	audiences  []string
	kubeconfig string
	qps        float32
	burst      int
}

func (f *serviceAccountFlags) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.enabled, "service-account-clients", false,
		"authenticate AuthClients that name a ServiceAccount by its tokens, each checked by a TokenReview (needs RBAC to create tokenreviews)")
	fs.StringSliceVar(&f.audiences, "service-account-audience", nil,
		"audiences a ServiceAccount token must hold one of (default: the issuer); the pods' token projections name it")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "with --service-account-clients: path to a kubeconfig (default: in-cluster, or $KUBECONFIG)")
	fs.Float32Var(&f.qps, "kube-api-qps", 100, "with --service-account-clients: TokenReviews per second to the API server")
	fs.IntVar(&f.burst, "kube-api-burst", 200, "with --service-account-clients: burst of TokenReviews")
}

// verifier returns the ServiceAccount token verifier the flags ask for
// (nil when off), for a server of issuer.
func (f *serviceAccountFlags) verifier(issuer string) (clientauth.ServiceAccountVerifier, error) {
	if !f.enabled {
		if len(f.audiences) > 0 || f.kubeconfig != "" {
			return nil, errors.New("--service-account-audience and --kubeconfig need --service-account-clients")
		}
		return nil, nil
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--service-account-clients: no Kubernetes API server to review tokens with (not in a pod, and no --kubeconfig or $KUBECONFIG): %w", err)
	}
	cfg.QPS, cfg.Burst = f.qps, f.burst
	cfg.UserAgent = "authstack-server"
	audiences := f.audiences
	if len(audiences) == 0 {
		// The issuer as the server spells it in its tokens and metadata,
		// which the pods' token projections name.
		iss, err := authserver.CanonicalIssuer(issuer, false)
		if err != nil {
			return nil, err
		}
		audiences = []string{iss}
	}
	v, err := serviceaccount.New(cfg, audiences)
	if err != nil {
		return nil, err
	}
	return v, nil
}
