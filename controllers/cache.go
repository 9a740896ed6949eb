package controllers

import (
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/authstack/authstack/controllers/credentials"
)

// CacheOptions returns the manager's cache settings: the credentials
// controllers' (credentials.CacheOptions), on base.
func CacheOptions(base cache.Options, secrets labels.Selector) cache.Options {
	return credentials.CacheOptions(base, secrets)
}
