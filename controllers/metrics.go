package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/controllers/credentials"
)

// registerMetrics registers the manager's own metrics (controller-runtime
// registers the reconcile metrics itself). A collector registered by an
// earlier manager of the same process is kept.
func registerMetrics(reg prometheus.Registerer, cache client.Reader) error {
	if err := reg.Register(credentials.NewStateCollector(cache)); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return err
	}
	return nil
}
