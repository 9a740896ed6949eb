package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
)

// Options configure the controllers Setup registers.
type Options struct {
	Credentials credentials.Options
	// SigningKeys, when Name is set, has the manager own the token
	// servers' signing-keys Secret (docs/signing-keys.md).
	SigningKeys signingkeys.Options
}

// Setup registers the manager's controllers and metrics with mgr.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	keyMetrics, err := registerMetrics(metrics.Registry, mgr.GetClient())
	if err != nil {
		return err
	}
	if err := credentials.Setup(ctx, mgr, o.Credentials); err != nil {
		return err
	}
	return signingkeys.Setup(mgr, o.SigningKeys, keyMetrics)
}
