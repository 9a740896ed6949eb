package signer

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Source provides the current key set. Callers fetch it once per request
// and use that snapshot throughout, so a concurrent rotation never mixes
// two sets within one operation.
type Source interface {
	Current() *KeySet
}

// Manager is a [Source] whose key set can be replaced atomically. Build it
// with [Static] or [WatchDir].
type Manager struct {
	current atomic.Pointer[KeySet]

	// Set only by WatchDir.
	dir      string
	interval time.Duration
	logger   *slog.Logger

	mu       sync.Mutex // serialises Reload
	lastHash [32]byte   // content hash of the last directory read
}

// Static returns a Manager that always serves ks.
func Static(ks *KeySet) *Manager {
	m := &Manager{}
	m.current.Store(ks)
	return m
}

// Current returns the current key set. It is safe for concurrent use.
func (m *Manager) Current() *KeySet { return m.current.Load() }
